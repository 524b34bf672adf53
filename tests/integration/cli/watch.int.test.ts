import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort, infraEnv, repoRoot, seedOutbox, waitFor } from '../../harness/index.js';
import { startObservedStack } from '../charts/observability-stack.js';
import type { ObservedStack } from '../charts/observability-stack.js';
import { cliEnv, parseJson, runCli } from './cli-fixture.js';

/** The one metric line `line` (name plus labels, exactly as the process prints it), as a number. */
const metricValue = (text: string, line: string): number => {
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  if (!found) throw new Error(`no line ${line} in:\n${text.slice(0, 3000)}`);
  return Number(found.slice(line.length + 1));
};
const metricsOf = async (target: string): Promise<string> => (await fetch(`http://${target}/metrics`)).text();

interface WatchJson {
  intervalSeconds: number;
  components: { role: string; url: string; up: boolean; error?: string }[];
  api: { requestsTotal: number; requestsPerSecond: number };
  outbox: {
    pending: number;
    oldestPendingAgeSeconds: number;
    dead: number;
    source: string;
    relays: { pending: number; dead: number; oldestPendingAgeSeconds: number };
    publishedTotal: number;
    publishedPerSecond: number;
    publishFailuresTotal: number;
  };
  consumer: {
    lagMessages: number;
    lagSeconds: number;
    appliedTotal: number;
    dlqTotal: number;
    endToEnd: { events: number; p50Seconds: number | null; p99Seconds: number | null };
  };
}

describe('shopstream watch', () => {
  let stack: ObservedStack;
  let env: Record<string, string>;
  let downRelay: string;

  beforeAll(async () => {
    stack = await startObservedStack();
    downRelay = `127.0.0.1:${await freePort()}`; // nothing listens there
    const t = stack.metricsTargets;
    env = {
      ...cliEnv({ databaseUrl: stack.db.url, brokers: infraEnv().kafkaBrokers, group: stack.group }),
      SHOPSTREAM_METRICS_URLS: `api=${t.api},relay=${t.relay},relay=${downRelay},consumer=${t.consumer},operator=${t.operator}`,
    };
    const seller = '3fa85f64-5717-4562-b3fc-2c963f66afa6';
    const token = await stack.token(seller);
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${stack.apiUrl}/products`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ title: `Watched ${i}`, price: 5, stock: 1 }),
      });
      expect(res.status).toBe(201);
    }
    // A poison event the topic refuses (over its 100 kB limit): DEAD after two attempts, and the
    // product's next event waits behind it as PENDING, so the backlog numbers are not all zero.
    await seedOutbox(stack.sql, { topic: stack.topic, products: 1, eventsPerProduct: 2, padding: 200_000 });
    // A message the consumer cannot read goes to the DLQ.
    const producer = stack.kafka.producer();
    await producer.connect();
    await producer.send({ topic: stack.topic, messages: [{ key: 'k', value: 'not an event' }] });
    await producer.disconnect();

    // Until everything has settled and the relay's and consumer's own gauges (refreshed on their
    // schedules) agree with the database, the numbers would move while being compared.
    await waitFor(
      async () => {
        const relay = await metricsOf(t.relay);
        const consumer = await metricsOf(t.consumer);
        const { rows } = await stack.sql.query<{ pending: number; dead: number }>(
          `select count(*) filter (where status = 'PENDING')::int as pending, count(*) filter (where status = 'DEAD')::int as dead from outbox_event`,
        );
        return (
          rows[0]!.pending === 1 &&
          rows[0]!.dead === 1 &&
          metricValue(relay, 'shopstream_outbox_pending_events') === 1 &&
          metricValue(relay, 'shopstream_outbox_dead_events') === 1 &&
          metricValue(relay, 'shopstream_outbox_published_total{event_type="product.created"}') === 3 &&
          consumer.includes('outcome="dead_lettered"} 1') &&
          consumer.includes(
            `shopstream_consumer_lag_messages{group="${stack.group}",topic="${stack.topic}",partition="0"} 0`,
          ) &&
          !/shopstream_consumer_lag_messages\{[^}]*\} [1-9]/.test(consumer)
        );
      },
      {
        description: 'the pipeline to settle (3 published and applied, 1 DEAD, 1 PENDING, 1 dead-lettered)',
        timeoutMs: 60_000,
        intervalMs: 500,
      },
    );
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('--once --json reports what the processes’ own /metrics and the database say', async () => {
    const { rows: before } = await stack.sql.query<{ age: number }>(
      `select extract(epoch from now() - min(created_at))::float8 as age from outbox_event where status = 'PENDING'`,
    );
    const result = await runCli(['watch', '--once', '--json', '--interval', '500'], env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const snapshot = parseJson<WatchJson>(result);
    const { rows: after } = await stack.sql.query<{ age: number }>(
      `select extract(epoch from now() - min(created_at))::float8 as age from outbox_event where status = 'PENDING'`,
    );
    const relay = await metricsOf(stack.metricsTargets.relay);
    const consumer = await metricsOf(stack.metricsTargets.consumer);
    const api = await metricsOf(stack.metricsTargets.api);

    expect(snapshot.intervalSeconds).toBeGreaterThanOrEqual(0.5);
    expect(snapshot.components.map((c) => [c.role, c.up])).toEqual([
      ['api', true],
      ['relay', true],
      ['relay', false],
      ['consumer', true],
      ['operator', true],
    ]);
    expect(snapshot.components[2]).toMatchObject({
      url: `http://${downRelay}/metrics`,
      error: 'ECONNREFUSED',
    });

    // The backlog from the database, with the relay's own gauges beside it.
    expect(snapshot.outbox).toMatchObject({ pending: 1, dead: 1, source: 'database' });
    expect(snapshot.outbox.oldestPendingAgeSeconds).toBeGreaterThanOrEqual(before[0]!.age);
    expect(snapshot.outbox.oldestPendingAgeSeconds).toBeLessThanOrEqual(after[0]!.age);
    expect(snapshot.outbox.relays).toMatchObject({
      pending: metricValue(relay, 'shopstream_outbox_pending_events'),
      dead: metricValue(relay, 'shopstream_outbox_dead_events'),
    });
    expect(snapshot.outbox.publishedTotal).toBe(3);
    expect(snapshot.outbox.publishedTotal).toBe(
      metricValue(relay, 'shopstream_outbox_published_total{event_type="product.created"}'),
    );
    const failures = relay
      .split('\n')
      .filter((l) => l.startsWith('shopstream_outbox_publish_failures_total{'))
      .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
    expect(failures).toBeGreaterThanOrEqual(2);
    expect(snapshot.outbox.publishFailuresTotal).toBe(failures);
    expect(snapshot.outbox.publishedPerSecond).toBe(0);

    expect(snapshot.consumer.lagMessages).toBe(0);
    expect(snapshot.consumer.lagSeconds).toBe(0);
    expect(snapshot.consumer.dlqTotal).toBe(1);
    expect(snapshot.consumer.appliedTotal).toBe(
      metricValue(
        consumer,
        `shopstream_consumer_events_total{group="${stack.group}",event_type="product.created",outcome="applied"}`,
      ),
    );
    expect(snapshot.consumer.appliedTotal).toBe(3);
    // Nothing was applied during the interval: no latency to report rather than an old one.
    expect(snapshot.consumer.endToEnd).toEqual({ events: 0, p50Seconds: null, p99Seconds: null });

    // Product requests only: the scrapes and probes are not traffic.
    expect(snapshot.api.requestsTotal).toBe(
      metricValue(
        api,
        'shopstream_http_request_duration_seconds_count{method="POST",route="/products",status="201"}',
      ),
    );
    expect(snapshot.api.requestsTotal).toBe(3);
    expect(snapshot.api.requestsPerSecond).toBe(0);
  });

  it('measures rates and end-to-end latency over the interval while traffic flows', async () => {
    const token = await stack.token('3fa85f64-5717-4562-b3fc-2c963f66afa6');
    const scrapesOfApi = async () => {
      const line =
        'shopstream_http_request_duration_seconds_count{method="GET",route="/metrics",status="200"}';
      const text = await metricsOf(stack.metricsTargets.api);
      return text.includes(line) ? metricValue(text, line) : 0;
    };
    const scrapesBefore = await scrapesOfApi();
    // A long interval leaves room for a loaded machine: the requests and their processing must fall
    // between the two scrapes.
    const watching = runCli(['watch', '--once', '--json', '--interval', '8000'], env);
    // The first of its two scrapes has happened once the API counted a /metrics request besides
    // ours (each of our reads is counted by the next one).
    let ownReads = 0;
    await waitFor(async () => (await scrapesOfApi()) >= scrapesBefore + ++ownReads + 1, {
      description: 'watch to take its first scrape',
      timeoutMs: 20_000,
      intervalMs: 100,
    });
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        fetch(`${stack.apiUrl}/products`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ title: `Flowing ${i}`, price: 5, stock: 1 }),
        }),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(201));
    const snapshot = parseJson<WatchJson>(await watching);
    // 10 requests in a ~8 s interval; the applied events and their latency came in with them.
    expect(snapshot.api.requestsPerSecond * snapshot.intervalSeconds).toBeCloseTo(10, 1);
    expect(snapshot.outbox.publishedTotal).toBe(13);
    expect(snapshot.consumer.endToEnd.events).toBe(10);
    expect(snapshot.consumer.endToEnd.p50Seconds).toBeGreaterThan(0);
    expect(snapshot.consumer.endToEnd.p99Seconds).toBeGreaterThanOrEqual(
      snapshot.consumer.endToEnd.p50Seconds!,
    );
  });

  it('prints one line per refresh off a terminal and exits 0 on Ctrl-C (SIGINT)', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(repoRoot, 'cli/src/main.ts'), 'watch', '--interval', '300'],
      { cwd: repoRoot, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<[number | null, string | null]>((resolve) =>
      child.once('exit', (code, signal) => resolve([code, signal])),
    );
    await waitFor(() => stdout.split('\n').length > 3, {
      description: `three refreshes (stderr: ${stderr})`,
      timeoutMs: 30_000,
    });
    child.kill('SIGINT');
    expect(await exited).toEqual([0, null]);
    const lines = stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(3);
    for (const line of lines) {
      expect(line).not.toContain('\x1b[');
      expect(line).toMatch(/ \| pending 1 oldest [\d.]+ s DEAD 1 \| /);
      expect(line).toContain(`DOWN relay :${downRelay.split(':')[1]}`);
    }
    expect(lines.at(-1)).toMatch(/ \| api 0\.0\/s \| /);
  });
});
