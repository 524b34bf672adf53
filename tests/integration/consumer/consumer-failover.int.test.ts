import { waitFor } from '../../harness/index.js';
import { consumerFixture, productEvents, readModels } from './consumer-fixture.js';
import type { ConsumerFixture } from './consumer-fixture.js';

describe('two consumers, one killed with SIGKILL mid-batch', () => {
  let f: ConsumerFixture;
  beforeAll(async () => {
    f = await consumerFixture({ partitions: 6 });
  });
  afterAll(() => f.close());

  it('gives every event exactly one effect after the rebalance', async () => {
    const events = productEvents(300, 5, f.topic);
    const [a, b] = [await f.startConsumer(), await f.startConsumer()];
    await f.produce(events.slice(0, 500));
    await waitFor(async () => (await readModels(f.sql)).inbox >= 200, { description: 'work under way' });
    await f.produce(events.slice(500));
    b.child.kill('SIGKILL');
    await b.exited;

    await waitFor(async () => (await readModels(f.sql)).inbox === events.length, {
      description: `all ${events.length} events in the inbox`,
      timeoutMs: 120_000,
    });
    const models = await readModels(f.sql);
    // Exactly one effect each: every product at its last version with its last stock, and the
    // seller's totals equal to the sum of the final states (a double effect would inflate them).
    const { rows } = await f.sql.query<{ n: number; v: number }>(
      'select count(*)::int as n, min(source_version)::int as v from product_search where source_version = 5 and stock = 50',
    );
    expect(rows[0]).toEqual({ n: 300, v: 5 });
    expect(models.stats).toEqual([
      { seller_id: events[0]!.payload.seller_id, product_count: 300, total_stock: String(300 * 50) },
    ]);
    a.child.kill('SIGTERM');
    await a.exited;
  });
});
