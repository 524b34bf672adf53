import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type pg from 'pg';
import { buildProductEvent, newId } from '@shopstream/shared';
import {
  fixtureProducer,
  freePort,
  infraEnv,
  insertEvents,
  productSnapshot,
  repoRoot,
  waitFor,
} from '../../harness/index.js';
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
/** Like metricValue, 0 when the line is not there (a counter not incremented yet). */
const metricOrZero = (text: string, line: string): number =>
  text.split('\n').some((l) => l.startsWith(`${line} `)) ? metricValue(text, line) : 0;

interface WatchJson {
  intervalSeconds: number;
  components: { role: string; url: string; up: boolean; error?: string }[];
  api: { requestsTotal: number | null; requestsPerSecond: number | null };
  outbox: {
    pending: number;
    blocked: number;
    oldestPendingAgeSeconds: number;
    dead: number;
    source: string;
    relays: { pending: number; blocked: number; dead: number; oldestPendingAgeSeconds: number };
    publishedTotal: number | null;
    publishedPerSecond: number | null;
    publishFailuresTotal: number;
  };
  consumer: {
    lagMessages: number;
    lagSeconds: number;
    appliedTotal: number | null;
    dlqTotal: number;
    endToEnd: { events: number | null; p50Seconds: number | null; p99Seconds: number | null };
  };
}

interface StreamedWatch {
  /** Every snapshot printed so far, in order. */
  snapshots: WatchJson[];
  /** The first snapshot printed from now on that satisfies `test`. */
  until(test: (s: WatchJson) => boolean, description: string): Promise<WatchJson>;
  stop(): Promise<void>;
}

/** `shopstream watch --json` as a running process, its stdout read one JSON document per line. */
function streamWatch(args: string[], env: Record<string, string>): StreamedWatch {
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'cli/src/main.ts'), ...args], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const snapshots: WatchJson[] = [];
  let partial = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    const lines = (partial + d.toString()).split('\n');
    partial = lines.pop()!;
    for (const line of lines) if (line.trim()) snapshots.push(JSON.parse(line) as WatchJson);
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const until = async (test: (s: WatchJson) => boolean, description: string): Promise<WatchJson> => {
    const from = snapshots.length;
    return waitFor(() => snapshots.slice(from).find(test), {
      description: `${description} (stderr: ${stderr})`,
      timeoutMs: 90_000,
      intervalMs: 50,
    });
  };
  return {
    snapshots,
    until,
    stop: async () => {
      child.kill('SIGINT');
      await exited;
    },
  };
}

describe('shopstream watch', () => {
  let stack: ObservedStack;
  let env: Record<string, string>;
  let downRelay: string;
  /** The one PENDING row that is not blocked (its next attempt an hour away). */
  let waitingId: string;

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
    // Rows the relay leaves alone, so the backlog numbers are not all zero and hold still: a
    // product whose first event is DEAD (as the relay leaves a record Kafka refused) and whose second
    // waits behind it (blocked), and another product's event PENDING with its next attempt an hour
    // away. Written in one transaction: the relay never sees them due, so how it handles a refused
    // record is no part of this test.
    const product = newId();
    const events = [1, 2].map((v) =>
      buildProductEvent(v === 1 ? 'product.created' : 'product.updated', productSnapshot(product, v), {
        shardCount: 64,
        topic: stack.topic,
      }),
    );
    const waiting = buildProductEvent('product.created', productSnapshot(newId(), 1), {
      shardCount: 64,
      topic: stack.topic,
    });
    waitingId = waiting.id;
    const client = await stack.sql.connect();
    try {
      await client.query('begin');
      await insertEvents(client as unknown as pg.Pool, [...events, waiting]);
      await client.query(
        `update outbox_event set status = 'DEAD', attempts = 2,
           last_error = 'message_too_large: failed to publish 1 outbox events: MESSAGE_TOO_LARGE'
         where id = $1`,
        [events[0]!.id],
      );
      await client.query(
        `update outbox_event set next_attempt_at = now() + interval '1 hour', created_at = now() - interval '90 seconds'
         where id = $1`,
        [waiting.id],
      );
      await client.query('commit');
    } finally {
      client.release();
    }
    // A message the consumer cannot read goes to the DLQ.
    const producer = fixtureProducer(stack.kafka);
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
        // The relay's gauges cover its own shards; it holds all 64.
        const seen = {
          pending: rows[0]!.pending,
          dead: rows[0]!.dead,
          relayPending: metricValue(relay, 'shopstream_outbox_pending_events'),
          relayBlocked: metricValue(relay, 'shopstream_outbox_blocked_events'),
          relayDead: metricValue(relay, 'shopstream_outbox_dead_events'),
          published: metricOrZero(relay, 'shopstream_outbox_published_total{event_type="product.created"}'),
          deadLettered: consumer.includes('outcome="dead_lettered"} 1'),
          caughtUp:
            consumer.includes(
              `shopstream_consumer_lag_messages{group="${stack.group}",topic="${stack.topic}",partition="0"} 0`,
            ) && !/shopstream_consumer_lag_messages\{[^}]*\} [1-9]/.test(consumer),
        };
        const settled = {
          pending: 2,
          dead: 1,
          relayPending: 1,
          relayBlocked: 1,
          relayDead: 1,
          published: 3,
          deadLettered: true,
          caughtUp: true,
        };
        // Thrown, so that a timeout says what was seen last.
        if (JSON.stringify(seen) !== JSON.stringify(settled))
          throw new Error(`not settled: ${JSON.stringify(seen)}`);
        return true;
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
    const ageOfWaiting = `select extract(epoch from now() - created_at)::float8 as age from outbox_event where id = $1`;
    const { rows: before } = await stack.sql.query<{ age: number }>(ageOfWaiting, [waitingId]);
    const result = await runCli(['watch', '--once', '--json', '--interval', '500'], env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const snapshot = parseJson<WatchJson>(result);
    const { rows: after } = await stack.sql.query<{ age: number }>(ageOfWaiting, [waitingId]);
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

    // The backlog from the database, blocked rows apart (their age is not the oldest pending),
    // with the relay's own gauges beside it.
    expect(snapshot.outbox).toMatchObject({ pending: 1, blocked: 1, dead: 1, source: 'database' });
    expect(snapshot.outbox.oldestPendingAgeSeconds).toBeGreaterThanOrEqual(before[0]!.age);
    expect(snapshot.outbox.oldestPendingAgeSeconds).toBeLessThanOrEqual(after[0]!.age);
    expect(snapshot.outbox.relays).toMatchObject({
      pending: metricValue(relay, 'shopstream_outbox_pending_events'),
      blocked: metricValue(relay, 'shopstream_outbox_blocked_events'),
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

  it('counts exactly the requests, publishes and applied events made between two snapshots', async () => {
    const token = await stack.token('3fa85f64-5717-4562-b3fc-2c963f66afa6');
    // A running view, one JSON document per refresh. No assertion depends on how long anything
    // takes: only on counters, compared between snapshots taken before and after the traffic.
    // 1 s refreshes leave each scrape 800 ms to answer on a busy machine.
    const watching = streamWatch(['watch', '--json', '--interval', '1000'], env);
    try {
      // Printed only after its scrapes finished: every request below comes after them.
      const before = await watching.until(
        (s) =>
          s.api.requestsTotal !== null &&
          s.outbox.publishedTotal !== null &&
          s.consumer.appliedTotal !== null,
        'a snapshot with every counter read',
      );
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
      // However slow the machine, some later snapshot sees all ten and what they caused; '>=' so
      // that an overshoot fails on the equalities below instead of timing out here.
      const after = await watching.until(
        (s) =>
          (s.api.requestsTotal ?? -1) >= before.api.requestsTotal! + 10 &&
          (s.outbox.publishedTotal ?? -1) >= before.outbox.publishedTotal! + 10 &&
          (s.consumer.appliedTotal ?? -1) >= before.consumer.appliedTotal! + 10,
        'a snapshot with the 10 requests published and applied',
      );
      expect(after.api.requestsTotal! - before.api.requestsTotal!).toBe(10);
      expect(after.outbox.publishedTotal! - before.outbox.publishedTotal!).toBe(10);
      expect(after.outbox.publishedTotal).toBe(13);
      expect(after.consumer.appliedTotal! - before.consumer.appliedTotal!).toBe(10);

      // Each refresh's per-interval numbers come from the same two scrapes as its counters: where
      // both ends of an interval were read, the end-to-end histogram counts exactly the events
      // applied in it, and a rate is above zero exactly when its counter moved. No wall clock.
      const window = watching.snapshots.slice(
        watching.snapshots.indexOf(before),
        watching.snapshots.indexOf(after) + 1,
      );
      let applied = 0;
      for (let i = 1; i < window.length; i++) {
        const [prev, s] = [window[i - 1]!, window[i]!];
        if (
          prev.consumer.appliedTotal !== null &&
          s.consumer.appliedTotal !== null &&
          s.consumer.endToEnd.events !== null
        ) {
          expect(s.consumer.endToEnd.events).toBe(s.consumer.appliedTotal - prev.consumer.appliedTotal);
          applied += s.consumer.endToEnd.events;
          if (s.consumer.endToEnd.events > 0) {
            expect(s.consumer.endToEnd.p50Seconds).toBeGreaterThan(0);
            expect(s.consumer.endToEnd.p99Seconds).toBeGreaterThanOrEqual(s.consumer.endToEnd.p50Seconds!);
          }
        }
        if (
          prev.api.requestsTotal !== null &&
          s.api.requestsTotal !== null &&
          s.api.requestsPerSecond !== null
        ) {
          expect(s.api.requestsPerSecond > 0).toBe(s.api.requestsTotal > prev.api.requestsTotal);
        }
        if (
          prev.outbox.publishedTotal !== null &&
          s.outbox.publishedTotal !== null &&
          s.outbox.publishedPerSecond !== null
        ) {
          expect(s.outbox.publishedPerSecond > 0).toBe(s.outbox.publishedTotal > prev.outbox.publishedTotal);
        }
      }
      expect(applied).toBeGreaterThan(0);
    } finally {
      await watching.stop();
    }
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
      expect(line).toMatch(/ \| pending 1 oldest [\d.]+ s DEAD 1 blocked 1 \| /);
      expect(line).toContain(`DOWN relay :${downRelay.split(':')[1]}`);
    }
    expect(lines.at(-1)).toMatch(/ \| api 0\.0\/s \| /);
  });
});
