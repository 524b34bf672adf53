import { KafkaTool, readTopic, runKafkaTool, waitFor } from '../../harness/index.js';
import { consumerFixture, metricValue, productEvents, readModels } from './consumer-fixture.js';
import type { ConsumerFixture } from './consumer-fixture.js';

describe('the product event consumer', () => {
  let f: ConsumerFixture;
  beforeAll(async () => {
    f = await consumerFixture();
  });
  afterAll(() => f.close());

  it('applies an event delivered three times once, and counts two duplicates', async () => {
    const [event] = productEvents(1, 1, f.topic);
    await f.produce([event!, event!, event!]);
    const consumer = await f.startConsumer();
    await waitFor(
      async () =>
        metricValue(await consumer.metrics(), 'shopstream_consumer_events_total', {
          outcome: 'duplicate',
        }) === 2,
      { description: 'two duplicates counted' },
    );
    const metrics = await consumer.metrics();
    expect(metricValue(metrics, 'shopstream_consumer_events_total', { outcome: 'applied' })).toBe(1);
    const models = await readModels(f.sql);
    expect(models.inbox).toBe(1);
    expect(models.search).toHaveLength(1);
    expect(models.stats).toEqual([
      { seller_id: event!.payload.seller_id, product_count: 1, total_stock: '10' },
    ]);
    consumer.child.kill('SIGTERM');
    expect(await consumer.exited).toBe(0);
  });

  it('moves a poison message to the DLQ with its origin and reason, and applies the messages after it', async () => {
    const before = await readModels(f.sql);
    const [v1, v2] = productEvents(1, 2, f.topic);
    const key = v1!.aggregateId; // same key, same partition: the poison sits between the two
    await f.produce([v1!]);
    await f.produceRaw([
      {
        key,
        value: '{"id": "not json',
        headers: {
          ce_id: '01a2262c-0000-7000-8000-000000000001',
          ce_type: 'product.created',
          ce_specversion: '1.0',
        },
      },
    ]);
    await f.produce([v2!]);
    const consumer = await f.startConsumer();

    const [letter] = await readTopic(f.brokers, f.dlq, 1);
    expect(letter!.headers).toMatchObject({
      dlq_original_topic: f.topic,
      dlq_error_code: 'BAD_PAYLOAD',
      ce_id: '01a2262c-0000-7000-8000-000000000001',
    });
    expect(Number(letter!.headers.dlq_original_offset)).toBeGreaterThanOrEqual(0);
    expect(letter!.headers.dlq_error_message).toMatch(/not JSON/);
    await waitFor(async () => (await readModels(f.sql)).inbox === before.inbox + 2, {
      description: 'both good events applied',
    });
    // good2 (version 1 of the same product id) is stale behind good1: applied means "took effect or was judged".
    const metrics = await consumer.metrics();
    expect(metricValue(metrics, 'shopstream_consumer_events_total', { outcome: 'dead_lettered' })).toBe(1);
    consumer.child.kill('SIGTERM');
    await consumer.exited;

    // Kafka's own view: the group committed past the poison.
    const described = await runKafkaTool(KafkaTool.consumerGroups, [
      '--bootstrap-server',
      f.brokers,
      '--describe',
      '--group',
      f.group,
    ]);
    const lags = described
      .split('\n')
      .filter((l) => l.includes(f.topic))
      .map((l) => l.trim().split(/\s+/)[5]);
    // A row per partition the group committed on (here the poison's), each at lag 0; `every` alone
    // would pass on no rows at all.
    expect(lags.length).toBeGreaterThan(0);
    expect(lags).toEqual(lags.map(() => '0'));
  });
});
