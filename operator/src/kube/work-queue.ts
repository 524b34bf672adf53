/**
 * A keyed work queue with controller-runtime's guarantees: a key waiting in the queue is there once
 * (adds are deduplicated), a key is never reconciled by two workers at once (an add while it runs
 * marks it dirty and it runs again afterwards), and failures are retried with per-key exponential
 * backoff that resets on success. Keys are "namespace/name"; the reconciler re-reads state itself.
 * On top, controller-runtime's overall limiter: a token bucket over every reconcile started, so a
 * relist or a hundred timers firing together cannot start more than `qps` reconciles a second
 * (after a burst); and periodic requeues are jittered, so pipelines created together drift apart
 * instead of polling in lockstep.
 */
export type ReconcileOutcome = { requeueAfterMs?: number } | void;

export interface WorkQueueOptions {
  workers: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Called when a reconcile throws; the key is retried after the backoff. */
  onError?: (key: string, err: unknown, retryInMs: number) => void;
  /** Reconciles started per second across all keys, after `burst` (defaults 10 and 100). */
  qps?: number;
  burst?: number;
  /** A requeue asked for by a reconcile happens within ± this fraction of its interval (default 0.1). */
  jitter?: number;
  /** Called whenever the number of keys waiting for a worker changes. */
  onDepth?: (depth: number) => void;
  random?: () => number;
  now?: () => number;
}

/** Tokens refill continuously at `qps` up to `burst`; a start takes one. */
class TokenBucket {
  private tokens: number;
  private atMs: number;

  constructor(
    private readonly qps: number,
    private readonly burst: number,
    private readonly now: () => number,
  ) {
    this.tokens = burst;
    this.atMs = now();
  }

  /** Takes a token, or says how long until one is there. */
  take(): { ok: true } | { ok: false; waitMs: number } {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.atMs) / 1000) * this.qps);
    this.atMs = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, waitMs: Math.ceil(((1 - this.tokens) / this.qps) * 1000) };
  }
}

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly idleWaiters: (() => void)[] = [];
  private active = 0;
  private stopped = false;
  private readonly bucket: TokenBucket;
  /** Set while the pump waits for the bucket to refill. */
  private refill: NodeJS.Timeout | undefined;

  constructor(
    private readonly reconcile: (key: string) => Promise<ReconcileOutcome>,
    private readonly options: WorkQueueOptions,
  ) {
    this.bucket = new TokenBucket(options.qps ?? 10, options.burst ?? 100, options.now ?? Date.now);
  }

  /** Enqueues `key` now (a pending delayed add of the same key is superseded). */
  add(key: string): void {
    if (this.stopped) return;
    const timer = this.timers.get(key);
    if (timer) {
      clearTimeout(timer);
      this.timers.delete(key);
    }
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.queue.push(key);
    this.options.onDepth?.(this.queue.length);
    this.pump();
  }

  /** Enqueues `key` after `ms`, unless an earlier add for it is already scheduled. */
  addAfter(key: string, ms: number): void {
    if (this.stopped || this.timers.has(key)) return;
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        this.add(key);
      }, ms),
    );
  }

  /** The backoff for a key's n-th consecutive failure: base · 2^(n-1), capped (5 ms → 5 min by default). */
  backoffMs(failures: number): number {
    const base = this.options.baseDelayMs ?? 5;
    return Math.min(this.options.maxDelayMs ?? 300_000, base * 2 ** Math.max(0, failures - 1));
  }

  get length(): number {
    return this.queue.length;
  }

  /** `ms` moved by up to ± the jitter fraction: what a periodic requeue waits. */
  jittered(ms: number): number {
    if (ms <= 0) return ms;
    const spread = this.options.jitter ?? 0.1;
    const random = this.options.random ?? Math.random;
    return Math.round(ms * (1 + spread * (2 * random() - 1)));
  }

  /** Resolves once nothing is queued or running (delayed adds may still be pending). */
  async idle(): Promise<void> {
    if (this.active === 0 && this.queue.length === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops taking work, cancels delayed adds and waits for running reconciles to finish. */
  async shutdown(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    if (this.refill) clearTimeout(this.refill);
    this.refill = undefined;
    this.queue.length = 0;
    this.queued.clear();
    this.options.onDepth?.(0);
    await this.idle();
  }

  private pump(): void {
    while (!this.stopped && !this.refill && this.active < this.options.workers && this.queue.length > 0) {
      const token = this.bucket.take();
      if (!token.ok) {
        this.refill = setTimeout(() => {
          this.refill = undefined;
          this.pump();
        }, token.waitMs);
        return;
      }
      const key = this.queue.shift()!;
      this.queued.delete(key);
      this.options.onDepth?.(this.queue.length);
      this.processing.add(key);
      this.active++;
      void this.run(key);
    }
  }

  private async run(key: string): Promise<void> {
    try {
      const outcome = await this.reconcile(key);
      this.failures.delete(key);
      if (outcome && outcome.requeueAfterMs !== undefined)
        this.addAfter(key, this.jittered(outcome.requeueAfterMs));
    } catch (err) {
      const failures = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, failures);
      const delay = this.backoffMs(failures);
      this.options.onError?.(key, err, delay);
      this.addAfter(key, delay);
    } finally {
      this.processing.delete(key);
      this.active--;
      if (this.dirty.delete(key)) this.add(key);
      this.pump();
      if (this.active === 0 && this.queue.length === 0) for (const w of this.idleWaiters.splice(0)) w();
    }
  }
}
