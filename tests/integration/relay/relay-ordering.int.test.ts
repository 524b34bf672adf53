import { KafkaTool, readTopic, runKafkaTool, seedOutbox } from '../../harness/index.js';
import { relayFixture, versionsByProduct } from './relay-fixture.js';
import type { RelayFixture } from './relay-fixture.js';

describe('three relays publishing 10,000 outbox events', () => {
  let f: RelayFixture;
  beforeAll(async () => {
    f = await relayFixture({ partitions: 3 });
  });
  afterAll(() => f.close());

  it('publish every event exactly once (no crash), in version order per product, and mark each PUBLISHED', async () => {
    const products = await seedOutbox(f.sql, { topic: f.topic, products: 1000, eventsPerProduct: 10 });
    const total = products.length * 10;
    await Promise.all([f.startRelay(), f.startRelay(), f.startRelay()]);
    await f.waitAllPublished(total);

    const records = await readTopic(f.brokers, f.topic, total);
    const ids = records.map((r) => r.headers.ce_id);
    expect(records).toHaveLength(total);
    expect(new Set(ids).size).toBe(total); // no event twice

    for (const [, versions] of versionsByProduct(records)) {
      expect(versions).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    }

    // Every row knows where it went, and that is where Kafka has it.
    const { rows } = await f.sql.query<{ id: string; kafka_partition: number; kafka_offset: string }>(
      'select id, kafka_partition, kafka_offset from outbox_event',
    );
    const where = new Map(records.map((r) => [r.headers.ce_id, `${r.partition}/${r.offset}`]));
    for (const r of rows) expect(where.get(r.id)).toBe(`${r.kafka_partition}/${r.kafka_offset}`);

    // Kafka's own tool agrees on the count: the log-end offsets sum to the number of events.
    const offsets = await runKafkaTool(KafkaTool.getOffsets, [
      '--bootstrap-server',
      f.brokers,
      '--topic',
      f.topic,
      '--time',
      '-1',
    ]);
    const sum = offsets
      .trim()
      .split('\n')
      .map((line) => Number(line.split(':')[2]))
      .reduce((a, b) => a + b, 0);
    expect(sum).toBe(total);

    // All three took part, and the shards are spread evenly (ceil(64 / 3) = 22 at most each).
    const { rows: owners } = await f.sql.query<{ owner: string; n: number }>(
      'select owner, count(*)::int as n from relay_shard group by owner',
    );
    expect(owners.map((o) => o.owner).sort()).toEqual(['relay-1', 'relay-2', 'relay-3']);
    for (const o of owners) expect(o.n).toBeLessThanOrEqual(22);
  });
});
