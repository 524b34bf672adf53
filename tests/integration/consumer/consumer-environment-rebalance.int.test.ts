import { consumerGroupsDescribe, readTopic, waitFor } from '../../harness/index.js';
import {
  appliedEventIds,
  blockedGauge,
  commitsPastUnapplied,
  consumerFixture,
  dlqRecordCount,
  metricValue,
  productEvents,
  readModels,
  sampleCommits,
} from './consumer-fixture.js';
import type { ConsumerFixture, ConsumerProcess } from './consumer-fixture.js';

// DESIGN §9, row "consumer hits a DB/environment error (read-only, missing table, timeout, bug)",
// while the group changes: a member blocked on an event must hand its partitions over when kafkajs
// says the assignment is gone (a member joins, a member leaves), without resolving the event.
// And the row next to it, "an event that is itself bad": the DLQ, and the partition keeps flowing.

const CONSUMER_ENV = {
  CONSUMER_RETRY_BASE_MS: '100',
  CONSUMER_RETRY_MAX_MS: '1000',
  CONSUMER_BLOCKED_LOG_INTERVAL_MS: '2000',
};

const count = (consumer: ConsumerProcess, msg: string): number =>
  consumer
    .output()
    .split('\n')
    .filter((l) => l.includes(`"msg":"${msg}`)).length;

/** The group's state and member count, from Kafka. */
async function groupState(f: ConsumerFixture): Promise<{ state: string; members: number }> {
  const admin = f.kafka.admin();
  await admin.connect();
  try {
    const { groups } = await admin.describeGroups([f.group]);
    return { state: groups[0]?.state ?? 'unknown', members: groups[0]?.members.length ?? 0 };
  } finally {
    await admin.disconnect();
  }
}

describe('consumer hits a DB/environment error (read-only, missing table, timeout, bug) while the group rebalances', () => {
  let f: ConsumerFixture | undefined;
  afterEach(async () => {
    await f?.close();
    f = undefined;
  });

  it('a blocked member hands its partitions over when another joins and when one leaves, and every event applies exactly once after the repair', async () => {
    f = await consumerFixture({ partitions: 3 });
    const fx = f;
    // 30 new products (created), then their updates (version 2) while the table is away.
    const events = productEvents(30, 2, fx.topic);
    const [first, updates] = [events.slice(0, 30), events.slice(30)];
    await fx.produce(first);
    const a = await fx.startConsumer(CONSUMER_ENV);
    await waitFor(async () => (await appliedEventIds(fx)).size === first.length, {
      description: 'the first 30 events applied',
    });
    await fx.sql.query('alter table product_search rename to product_search_away');
    await fx.produce(updates);
    await waitFor(async () => (await blockedGauge(fx, a)) === 1, { description: 'member A blocked' });

    // A member joins while A is blocked: A must leave its batch so the group can rebalance.
    const b = await fx.startConsumer(CONSUMER_ENV);
    await waitFor(
      async () => (await groupState(fx)).members === 2 && (await groupState(fx)).state === 'Stable',
      {
        description: 'the group Stable with 2 members while blocked',
        timeoutMs: 60_000,
      },
    );
    expect(
      count(a, 'consumer blocked: stopped retrying and left the event uncommitted'),
    ).toBeGreaterThanOrEqual(1);
    await waitFor(async () => (await blockedGauge(fx, b)) === 1, { description: 'member B blocked too' });
    const duringJoin = await sampleCommits(fx, 'kafka-consumer-groups');

    // A member leaves (SIGTERM) while blocked: it stops retrying, commits nothing past the event, exits 0.
    b.child.kill('SIGTERM');
    expect(await b.exited).toBe(0);
    expect(
      count(b, 'consumer blocked: stopped retrying and left the event uncommitted'),
    ).toBeGreaterThanOrEqual(1);
    await waitFor(
      async () => (await groupState(fx)).members === 1 && (await groupState(fx)).state === 'Stable',
      {
        description: 'the group Stable with A alone',
        timeoutMs: 60_000,
      },
    );
    const afterLeave = await sampleCommits(fx);
    expect(await blockedGauge(fx, a)).toBe(1);
    expect(count(a, 'consumer crashed')).toBe(0);

    await fx.sql.query('alter table product_search_away rename to product_search');
    const all = [...first, ...updates];
    await waitFor(async () => (await appliedEventIds(fx)).size === all.length, {
      description: `all ${all.length} events in the inbox`,
      timeoutMs: 120_000,
    });
    await waitFor(async () => (await blockedGauge(fx, a)) === 0, { description: 'A unblocked' });

    const records = await readTopic(fx.brokers, fx.topic, all.length);
    const { violations, checked } = commitsPastUnapplied([duringJoin, afterLeave], records);
    expect(violations).toEqual([]);
    expect(checked).toBeGreaterThanOrEqual(2);
    expect(await dlqRecordCount(fx)).toBe(0);
    // Exactly once: every product at version 2, the seller's totals the sum of the final states.
    const models = await readModels(fx.sql);
    expect(models.inbox).toBe(60);
    const { rows } = await fx.sql.query<{ n: number }>(
      'select count(*)::int as n from product_search where source_version = 2 and stock = 20',
    );
    expect(rows[0]!.n).toBe(30);
    expect(models.stats).toEqual([
      { seller_id: first[0]!.payload.seller_id, product_count: 30, total_stock: String(30 * 20) },
    ]);
    await waitFor(
      async () =>
        Object.values(await consumerGroupsDescribe(fx.brokers, fx.group, fx.topic)).every(
          (p) => p.lag === '0',
        ),
      { description: 'the group committed up to the log end', timeoutMs: 60_000 },
    );
    a.child.kill('SIGTERM');
    expect(await a.exited).toBe(0);
  });

  it('an event that is itself bad (not JSON, unknown type) still goes to the DLQ with its code and the partition keeps flowing', async () => {
    f = await consumerFixture({ partitions: 3 });
    const fx = f;
    const [v1, v2] = productEvents(1, 2, fx.topic);
    const key = v1!.aggregateId; // one key, one partition: the poison sits between good events
    const poison = (ce_id: string, ce_type: string, value: string) => ({
      key,
      value,
      headers: { ce_id, ce_type, ce_specversion: '1.0' },
    });
    await fx.produce([v1!]);
    await fx.produceRaw([
      poison('01a2262c-0000-7000-8000-0000000000b1', 'product.created', '{"id": "not json'),
    ]);
    await fx.produceRaw([
      poison('01a2262c-0000-7000-8000-0000000000b2', 'product.exploded', JSON.stringify(v2!.payload)),
    ]);
    await fx.produce([v2!]);
    const consumer = await fx.startConsumer(CONSUMER_ENV);

    const letters = await readTopic(fx.brokers, fx.dlq, 2);
    expect(letters.map((l) => [l.headers.ce_id, l.headers.dlq_error_code])).toEqual([
      ['01a2262c-0000-7000-8000-0000000000b1', 'BAD_PAYLOAD'],
      ['01a2262c-0000-7000-8000-0000000000b2', 'UNKNOWN_EVENT_TYPE'],
    ]);
    await waitFor(async () => (await appliedEventIds(fx)).size === 2, {
      description: 'both good events applied',
    });
    await waitFor(
      async () =>
        Object.values(await consumerGroupsDescribe(fx.brokers, fx.group, fx.topic)).every(
          // Partitions that never held a record have nothing to commit ('-').
          (p) => p.lag === '0' || (p.current === '-' && p.logEnd === '0'),
        ),
      { description: 'the group committed past the poison', timeoutMs: 60_000 },
    );
    const metrics = await consumer.metrics();
    expect(metricValue(metrics, 'shopstream_consumer_dlq_events_total', { code: 'BAD_PAYLOAD' })).toBe(1);
    expect(metricValue(metrics, 'shopstream_consumer_dlq_events_total', { code: 'UNKNOWN_EVENT_TYPE' })).toBe(
      1,
    );
    expect(await blockedGauge(fx, consumer)).toBe(0);
    expect(count(consumer, 'consumer blocked')).toBe(0);
    const [row] = (await readModels(fx.sql)).search as { source_version: number }[];
    expect(row?.source_version).toBe(2);
    consumer.child.kill('SIGTERM');
    expect(await consumer.exited).toBe(0);
  });
});
