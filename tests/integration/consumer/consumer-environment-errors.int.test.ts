import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { buildProductEvent, newId } from '@shopstream/shared';
import type { NewOutboxEvent } from '@shopstream/shared';
import { infraEnv, productSnapshot, readTopic, waitFor } from '../../harness/index.js';
import {
  appliedEventIds,
  blockedGauge,
  commitsPastUnapplied,
  consumerFixture,
  dlqRecordCount,
  logLines,
  metricValue,
  sampleCommits,
  startLoad,
} from './consumer-fixture.js';
import type { CommitSample, ConsumerFixture, ConsumerProcess } from './consumer-fixture.js';

// DESIGN §9, row "consumer hits a DB/environment error (read-only, missing table, timeout, bug)":
// it retries with backoff, commits nothing, reports `blocked`; resumes when fixed — never DLQ, never
// a committed offset past the event, never a skipped event. Each test breaks the consumer's database
// for real under a real consumer process, and reads back the DLQ topic and the group's offsets.

/** Short backoff cap and log interval, so a 10 s break shows several retries and "still blocked" lines. */
const CONSUMER_ENV = {
  CONSUMER_RETRY_BASE_MS: '100',
  CONSUMER_RETRY_MAX_MS: '1000',
  CONSUMER_BLOCKED_LOG_INTERVAL_MS: '2000',
};
const BREAK_MS = 10_000;

async function withAdmin<T>(fn: (admin: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: infraEnv().databaseUrl });
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.end();
  }
}

interface BreakOutcome {
  events: NewOutboxEvent[];
  samples: CommitSample[];
  gaugeDuringBreak: number | undefined;
}

/**
 * Under load (new events keep arriving): waits until the group has committed on every partition,
 * runs `breakIt`, waits for the gauge to say blocked, samples the committed offsets (admin API every
 * 500 ms and Kafka's own kafka-consumer-groups once) until BREAK_MS passed, runs `repair`, then
 * stops the load and waits until every produced event is in the inbox.
 */
async function breakUnderLoad(
  f: ConsumerFixture,
  consumer: ConsumerProcess,
  breakIt: () => Promise<void>,
  repair: () => Promise<void>,
): Promise<BreakOutcome> {
  const load = startLoad(f);
  try {
    await waitFor(async () => (await sampleCommits(f)).committed.size === 3, {
      description: 'the group to commit on all 3 partitions under load',
      timeoutMs: 60_000,
    });
    await breakIt();
    const brokenAt = Date.now();
    await waitFor(async () => (await blockedGauge(f, consumer)) === 1, {
      description: 'shopstream_consumer_blocked to be 1',
    });
    const samples = [await sampleCommits(f, 'kafka-consumer-groups')];
    for (let i = 0; i < 100 && Date.now() - brokenAt < BREAK_MS; i++) {
      samples.push(await sampleCommits(f));
      await sleep(500);
    }
    const gaugeDuringBreak = await blockedGauge(f, consumer);
    samples.push(await sampleCommits(f));
    await repair();
    await waitFor(async () => (await blockedGauge(f, consumer)) === 0, {
      description: 'shopstream_consumer_blocked back to 0 after the repair',
      timeoutMs: 60_000,
    });
    await sleep(1_000); // a little more load after the repair: the partitions flow again
    const events = await load.stop();
    await waitFor(async () => (await appliedEventIds(f)).size === events.length, {
      description: `all ${events.length} events in the inbox`,
      timeoutMs: 120_000,
    });
    return { events, samples, gaugeDuringBreak };
  } finally {
    await load.stop();
  }
}

/** What every row of this kind must show once the environment is repaired. */
async function expectNothingLostNothingDeadLettered(
  f: ConsumerFixture,
  consumer: ConsumerProcess,
  { events, samples, gaugeDuringBreak }: BreakOutcome,
  sqlState: string,
): Promise<void> {
  expect(gaugeDuringBreak).toBe(1);
  expect(await blockedGauge(f, consumer)).toBe(0);

  // 0 DLQ records, by Kafka's log-end offsets and by the consumer's own counters.
  expect(await dlqRecordCount(f)).toBe(0);
  const metrics = await consumer.metrics();
  expect(metricValue(metrics, 'shopstream_consumer_dlq_events_total', { group: f.group })).toBe(0);
  expect(metricValue(metrics, 'shopstream_consumer_events_total', { outcome: 'dead_lettered' })).toBe(0);

  // Every event applied exactly once: one inbox row each, every product at its last version.
  const inbox = await appliedEventIds(f);
  expect(inbox.size).toBe(events.length);
  for (const e of events) expect(inbox.has(e.id)).toBe(true);
  const { rows } = await f.sql.query<{ n: number; v2: number }>(
    'select count(*)::int as n, count(*) filter (where source_version = 2 and stock = 20)::int as v2 from product_search',
  );
  expect(rows[0]).toEqual({ n: events.length / 2, v2: events.length / 2 });

  // The group's committed offset never passed an event that was not applied at that moment.
  const records = await readTopic(f.brokers, f.topic, events.length);
  const { violations, checked } = commitsPastUnapplied(samples, records);
  expect(violations).toEqual([]);
  expect(samples.some((s) => s.source === 'kafka-consumer-groups')).toBe(true);
  expect(checked).toBeGreaterThan(samples.length); // unapplied events existed on several partitions

  // The log said when the block started, repeated the cause while it lasted, and said when it
  // cleared. (The first cause may be the break itself — a terminated session — rather than the state
  // it leaves behind; the repeated lines and the last cause name the state.)
  expect(logLines(consumer, /^consumer blocked: an environmental error/)[0]).toMatchObject({ level: 'warn' });
  const still = logLines(consumer, /^consumer still blocked$/);
  expect(still.length).toBeGreaterThanOrEqual(1);
  expect(still.some((l) => l.sqlState === sqlState && String(l.cause).includes(sqlState))).toBe(true);
  const [cleared] = logLines(consumer, /^consumer unblocked/);
  expect(String(cleared?.lastCause)).toContain(sqlState);
}

describe('consumer hits a DB/environment error (read-only, missing table, timeout, bug)', () => {
  let f: ConsumerFixture | undefined;
  afterEach(async () => {
    await f?.close();
    f = undefined;
  });

  it('product_search renamed for 10 s under load: blocked 1 then 0, 0 DLQ records, every event applied, no commit past an unapplied event', async () => {
    f = await consumerFixture({ partitions: 3 });
    const fx = f;
    const consumer = await fx.startConsumer(CONSUMER_ENV);
    const outcome = await breakUnderLoad(
      fx,
      consumer,
      () => fx.sql.query('alter table product_search rename to product_search_away').then(() => undefined),
      () => fx.sql.query('alter table product_search_away rename to product_search').then(() => undefined),
    );
    await expectNothingLostNothingDeadLettered(fx, consumer, outcome, '42P01');
    consumer.child.kill('SIGTERM');
    expect(await consumer.exited).toBe(0);
  });

  it('read-only transaction mode on its database for 10 s under load: blocked 1 then 0, 0 DLQ records, every event applied, no commit past an unapplied event', async () => {
    f = await consumerFixture({ partitions: 3 });
    const fx = f;
    const consumer = await fx.startConsumer(CONSUMER_ENV);
    const outcome = await breakUnderLoad(
      fx,
      consumer,
      () =>
        withAdmin(async (admin) => {
          await admin.query(`alter database "${fx.db.name}" set default_transaction_read_only = on`);
          // New sessions pick the setting up; end the current ones (the consumer's among them) so
          // it has to open new ones.
          await admin.query(
            'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
            [fx.db.name],
          );
        }),
      // Only the setting is reset: the consumer's read-only sessions are its own to replace.
      () =>
        withAdmin(async (admin) => {
          await admin.query(`alter database "${fx.db.name}" reset default_transaction_read_only`);
        }),
    );
    await expectNothingLostNothingDeadLettered(fx, consumer, outcome, '25006');
    consumer.child.kill('SIGTERM');
    expect(await consumer.exited).toBe(0);
  });

  it('a bug that throws for one event type (division by zero in a trigger, class 22 but not data) blocks that event, dead-letters nothing, and applies it once fixed', async () => {
    f = await consumerFixture({ partitions: 3 });
    const fx = f;
    // The fault: rows whose title starts with FAULT hit a bug in database code. Only the newest
    // version of a product in a chunk is written, so the faulty version is the newest one produced
    // at first; version 3 follows once the consumer is blocked on it.
    await fx.sql.query(`
      create function test_fault() returns trigger language plpgsql as $$
      begin
        if new.title like 'FAULT%' then perform 1 / 0; end if;
        return new;
      end $$;
      create trigger test_fault before insert or update on product_search for each row execute function test_fault();`);
    const product = newId();
    const marked = [1, 2, 3].map((v) =>
      buildProductEvent(
        v === 1 ? 'product.created' : 'product.updated',
        productSnapshot(product, v, { title: v === 2 ? 'FAULT lamp' : `Lamp v${v}`, stock: v * 10 }),
        { shardCount: 64, topic: fx.topic },
      ),
    );
    const others = Array.from({ length: 20 }, () =>
      buildProductEvent('product.created', productSnapshot(newId(), 1), { shardCount: 64, topic: fx.topic }),
    );
    const events = [...marked, ...others];
    await fx.produce([marked[0]!, marked[1]!, ...others]);
    const consumer = await fx.startConsumer(CONSUMER_ENV);

    await waitFor(async () => (await blockedGauge(fx, consumer)) === 1, {
      description: 'shopstream_consumer_blocked to be 1',
    });
    await fx.produce([marked[2]!]);
    const [started] = logLines(consumer, /^consumer blocked: an environmental error/);
    expect(started).toMatchObject({
      sqlState: '22012',
      eventId: marked[1]!.id,
      eventType: 'product.updated',
    });
    expect(String(started?.cause)).toMatch(/division by zero/);
    // Stays blocked over several retries: the marked event is neither applied nor set aside.
    await waitFor(() => logLines(consumer, /^consumer still blocked$/).length >= 2, {
      description: 'two "consumer still blocked" lines',
    });
    const records = await readTopic(fx.brokers, fx.topic, events.length);
    const markedRecord = records.find((r) => r.headers.ce_id === marked[1]!.id)!;
    const during = [await sampleCommits(fx, 'kafka-consumer-groups'), await sampleCommits(fx)];
    expect((await appliedEventIds(fx)).has(marked[0]!.id)).toBe(true);
    expect((await appliedEventIds(fx)).has(marked[1]!.id)).toBe(false);
    expect(commitsPastUnapplied(during, records).violations).toEqual([]);
    for (const s of during) {
      const committed = s.committed.get(markedRecord.partition);
      if (committed !== undefined) expect(committed).toBeLessThanOrEqual(BigInt(markedRecord.offset));
    }
    expect(await blockedGauge(fx, consumer)).toBe(1);
    expect(await dlqRecordCount(fx)).toBe(0);

    await fx.sql.query('drop trigger test_fault on product_search');
    await waitFor(async () => (await appliedEventIds(fx)).size === events.length, {
      description: `all ${events.length} events in the inbox once the bug is fixed`,
      timeoutMs: 60_000,
    });
    await waitFor(async () => (await blockedGauge(fx, consumer)) === 0, {
      description: 'shopstream_consumer_blocked back to 0',
    });
    expect(await dlqRecordCount(fx)).toBe(0);
    const { rows } = await fx.sql.query<{ title: string; source_version: number; stock: number }>(
      'select title, source_version, stock from product_search where product_id = $1',
      [product],
    );
    expect(rows).toEqual([{ title: 'Lamp v3', source_version: 3, stock: 30 }]);
    expect(
      metricValue(await consumer.metrics(), 'shopstream_consumer_dlq_events_total', { group: fx.group }),
    ).toBe(0);
    expect(logLines(consumer, /^consumer unblocked/)[0]).toMatchObject({ eventId: marked[1]!.id });
    consumer.child.kill('SIGTERM');
    expect(await consumer.exited).toBe(0);
  });
});
