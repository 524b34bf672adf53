import { setTimeout as sleep } from 'node:timers/promises';
import { WorkQueue } from './work-queue.js';

describe('WorkQueue', () => {
  it('deduplicates a key that is waiting', async () => {
    const seen: string[] = [];
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const q = new WorkQueue(
      async (key) => {
        seen.push(key);
        if (key === 'block') await gate;
      },
      { workers: 1 },
    );
    q.add('block'); // occupies the only worker
    q.add('a');
    q.add('a');
    q.add('b');
    q.add('a');
    expect(q.length).toBe(2);
    open();
    await q.idle();
    expect(seen).toEqual(['block', 'a', 'b']);
  });

  it('never runs one key twice at once, and re-runs it once if it was added while running', async () => {
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    const q = new WorkQueue(
      async () => {
        running++;
        runs++;
        maxRunning = Math.max(maxRunning, running);
        await sleep(20);
        running--;
      },
      { workers: 4 },
    );
    q.add('ns/p');
    await sleep(5);
    q.add('ns/p');
    q.add('ns/p');
    q.add('ns/p');
    await q.idle();
    await sleep(30);
    await q.idle();
    expect(maxRunning).toBe(1);
    expect(runs).toBe(2);
  });

  it('retries a failing key with per-key exponential backoff and resets it after a success', async () => {
    const times: number[] = [];
    const delays: number[] = [];
    let calls = 0;
    const q = new WorkQueue(
      async () => {
        times.push(performance.now());
        calls++;
        if (calls <= 3 || calls === 5) throw new Error('kafka unavailable');
      },
      { workers: 1, baseDelayMs: 20, maxDelayMs: 1000, onError: (_k, _e, ms) => delays.push(ms) },
    );
    q.add('ns/p');
    for (let i = 0; i < 100 && calls < 4; i++) await sleep(10);
    expect(delays).toEqual([20, 40, 80]);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(18);
    expect(times[3]! - times[2]!).toBeGreaterThanOrEqual(75);
    // Call 4 succeeded; the next failure starts from the base delay again.
    q.add('ns/p');
    for (let i = 0; i < 100 && delays.length < 4; i++) await sleep(10);
    expect(delays).toEqual([20, 40, 80, 20]);
    expect(q.backoffMs(30)).toBe(1000);
    await q.shutdown();
  });

  it('defaults to 5 ms doubling up to 5 minutes', () => {
    const q = new WorkQueue(async () => undefined, { workers: 1 });
    expect([1, 2, 3].map((n) => q.backoffMs(n))).toEqual([5, 10, 20]);
    expect(q.backoffMs(100)).toBe(300_000);
  });

  it('requeues after the interval a reconcile asks for (periodic resync)', async () => {
    let calls = 0;
    const q = new WorkQueue(
      async () => {
        calls++;
        return { requeueAfterMs: 15 };
      },
      { workers: 1 },
    );
    q.add('ns/p');
    for (let i = 0; i < 100 && calls < 3; i++) await sleep(10);
    await q.shutdown();
    expect(calls).toBeGreaterThanOrEqual(3);
  });

  it('finishes running work on shutdown and takes no more', async () => {
    let finished = 0;
    const q = new WorkQueue(
      async () => {
        await sleep(30);
        finished++;
      },
      { workers: 2 },
    );
    q.add('a');
    q.add('b');
    q.add('c');
    await sleep(5);
    await q.shutdown();
    expect(finished).toBe(2);
    q.add('d');
    await sleep(40);
    expect(finished).toBe(2);
  });

  it('starts no more than the burst at once, then one per 1/qps, across all keys', async () => {
    let nowMs = 0;
    const started: string[] = [];
    const depths: number[] = [];
    const q = new WorkQueue(
      async (key) => {
        started.push(key);
      },
      { workers: 4, qps: 2, burst: 3, now: () => nowMs, onDepth: (d) => depths.push(d) },
    );
    for (const k of ['a', 'b', 'c', 'd', 'e']) q.add(k);
    await sleep(20);
    // The clock has not moved: the bucket holds 3 tokens and no more.
    expect(started).toEqual(['a', 'b', 'c']);
    expect(q.length).toBe(2);
    nowMs += 500; // one token at 2 per second
    await sleep(600); // the refill timer (500 ms) fires and takes it
    expect(started).toEqual(['a', 'b', 'c', 'd']);
    nowMs += 500;
    await sleep(600);
    expect(started).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(depths.at(-1)).toBe(0);
    expect(Math.max(...depths)).toBe(2); // d and e waited for tokens
    await q.shutdown();
  });

  it('jitters a requeue within ± the fraction, never a backoff or an immediate requeue', () => {
    const at = (r: number) => new WorkQueue(async () => undefined, { workers: 1, random: () => r });
    expect(at(0).jittered(15_000)).toBe(13_500);
    expect(at(1).jittered(15_000)).toBe(16_500);
    expect(at(0.5).jittered(15_000)).toBe(15_000);
    expect(at(0).jittered(0)).toBe(0);
    expect(new WorkQueue(async () => undefined, { workers: 1, jitter: 0 }).jittered(15_000)).toBe(15_000);
  });

  it('cancels a pending refill on shutdown (nothing keeps the process alive)', async () => {
    const started: string[] = [];
    const q = new WorkQueue(
      async (key) => {
        started.push(key);
      },
      { workers: 1, qps: 0.001, burst: 1, now: () => 0 },
    );
    q.add('a');
    q.add('b');
    await sleep(10);
    expect(started).toEqual(['a']);
    await q.shutdown();
    expect(q.length).toBe(0);
  });
});
