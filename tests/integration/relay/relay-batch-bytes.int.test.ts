import pg from 'pg';
import { pino } from 'pino';
import { migrate } from '@shopstream/shared';
import { OutboxStore, ShardOwnership } from '@shopstream/relay';
import { createTestDatabase, seedOutbox } from '../../harness/index.js';
import type { TestDatabase } from '../../harness/index.js';

// A batch of RELAY_BATCH_SIZE rows of the largest records a relay accepts (RELAY_MAX_RECORD_BYTES,
// about 1 MB each) would hold a gigabyte in the relay's memory: the claim also ends at
// RELAY_BATCH_MAX_BYTES of payload, in commit order, and always takes one row so a record larger
// than the budget still moves.
describe('the claim of a batch of large records', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  let store: OutboxStore;
  let owned: ShardOwnership;
  beforeAll(async () => {
    db = await createTestDatabase('batch_bytes');
    await migrate(db.url);
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
    // 10 products, one event each, every payload a little over 100 kB.
    await seedOutbox(pool, {
      topic: 't',
      products: 10,
      eventsPerProduct: 1,
      shardCount: 4,
      padding: 100_000,
    });
    owned = new ShardOwnership(
      pool,
      { owner: 'r', shardCount: 4, leaseMs: 60_000 },
      pino({ level: 'silent' }),
    );
    await owned.ensureShardRows();
    await owned.heartbeat();
    store = new OutboxStore(pool, 'r');
  });
  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  const inCommitOrder = async (): Promise<string[]> =>
    (await pool.query<{ id: string }>('select id from outbox_event_unpublished order by seq')).rows.map(
      (r) => r.id,
    );

  it('ends where the payloads would pass the byte budget, keeping commit order', async () => {
    const claimed = await store.claim(owned.shards, 1000, [], 350_000);
    expect(claimed).toHaveLength(3); // 3 × ~100 kB fit in 350 kB, a fourth would not
    expect(claimed.map((e) => e.id)).toEqual((await inCommitOrder()).slice(0, 3));
    const bytes = claimed.reduce((sum, e) => sum + Buffer.byteLength(e.payload), 0);
    expect(bytes).toBeLessThanOrEqual(350_000);
  });

  it('takes one record larger than the whole budget alone, so it is never stuck', async () => {
    const claimed = await store.claim(owned.shards, 1000, [], 1_000);
    expect(claimed.map((e) => e.id)).toEqual((await inCommitOrder()).slice(0, 1));
  });

  it('is bounded by the row limit as before when the records are small enough', async () => {
    expect(await store.claim(owned.shards, 4, [], 10_000_000)).toHaveLength(4);
    expect(await store.claim(owned.shards, 1000)).toHaveLength(10);
  });
});
