import { readTopic, seedOutbox, startPrivateKafka } from '../../harness/index.js';
import type { PrivateKafka } from '../../harness/index.js';
import { relayFixture } from './relay-fixture.js';
import type { RelayFixture } from './relay-fixture.js';

describe('Kafka stopped for 20 s while relays run', () => {
  let kafka: PrivateKafka;
  let f: RelayFixture;
  beforeAll(async () => {
    kafka = await startPrivateKafka();
    f = await relayFixture({ partitions: 3, brokers: kafka.brokers });
  });
  afterAll(async () => {
    await f?.close();
    await kafka?.destroy();
  });

  it('sends no row DEAD before its last attempt and publishes everything once Kafka is back', async () => {
    await seedOutbox(f.sql, { topic: f.topic, products: 100, eventsPerProduct: 5 });
    const env = { RELAY_MAX_ATTEMPTS: '10', RELAY_BACKOFF_BASE_MS: '500', KAFKA_REQUEST_TIMEOUT_MS: '3000' };
    await Promise.all([f.startRelay(env), f.startRelay(env)]);
    await f.waitAllPublished(500);

    await kafka.stop();
    const products = await seedOutbox(f.sql, { topic: f.topic, products: 100, eventsPerProduct: 5 });
    const outageEnds = Date.now() + 20_000;
    let sawFailures = false;
    while (Date.now() < outageEnds) {
      const { rows } = await f.sql.query<{ dead: number; retried: number }>(
        `select count(*) filter (where status = 'DEAD')::int as dead,
                count(*) filter (where attempts > 0)::int as retried from outbox_event`,
      );
      expect(rows[0]!.dead).toBe(0);
      sawFailures ||= rows[0]!.retried > 0;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(sawFailures).toBe(true); // the relays did try, and failed, during the outage
    await kafka.start();

    await f.waitAllPublished(500 + products.length * 5, 180_000);
    expect((await f.statusCounts()).DEAD).toBeUndefined();
    const records = await readTopic(f.brokers, f.topic, 1000);
    expect(new Set(records.map((r) => r.headers.ce_id)).size).toBe(1000);
  });
});
