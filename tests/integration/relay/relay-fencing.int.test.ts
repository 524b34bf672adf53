import pg from 'pg';
import { pino } from 'pino';
import { buildProductEvent, migrate, newId } from '@shopstream/shared';
import { OutboxStore, ShardOwnership } from '@shopstream/relay';
import { createTestDatabase, insertEvents, productSnapshot, seedOutbox } from '../../harness/index.js';
import type { TestDatabase } from '../../harness/index.js';

const log = pino({ level: 'silent' });

describe('fencing by shard epoch', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  beforeAll(async () => {
    db = await createTestDatabase('fencing');
    await migrate(db.url);
    pool = new pg.Pool({ connectionString: db.url, max: 4 });
  });
  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  it('stops a stalled relay whose shards were taken over from marking their rows, while the new owner can', async () => {
    await seedOutbox(pool, { topic: 'fencing', products: 50, eventsPerProduct: 2, shardCount: 4 });
    const options = { shardCount: 4, leaseMs: 1000 };
    const stalled = new ShardOwnership(pool, { ...options, owner: 'stalled' }, log);
    await stalled.ensureShardRows();
    await stalled.heartbeat();
    expect(stalled.shards.size).toBe(4);
    const stalledStore = new OutboxStore(pool, 'stalled');
    const claimed = await stalledStore.claim(stalled.shards, 1000);
    expect(claimed.length).toBeGreaterThan(0);

    // The stalled relay stops heartbeating (a long GC pause, a network partition): its lease lapses.
    await new Promise((r) => setTimeout(r, 1200));
    // Its claim is fenced by the lease too (the database's clock): nothing, even before a takeover.
    expect(await stalledStore.claim(stalled.shards, 1000)).toEqual([]);
    const successor = new ShardOwnership(pool, { ...options, owner: 'successor' }, log);
    await successor.heartbeat();
    expect([...successor.shards.keys()].sort()).toEqual([0, 1, 2, 3]);
    for (const [shard, epoch] of successor.shards)
      expect(BigInt(epoch)).toBe(BigInt(stalled.shards.get(shard)!) + 1n);

    // The stalled relay wakes up with its Kafka acks in hand: it may not mark anything.
    const acks = claimed.map((e, i) => ({ id: e.id, partition: 0, offset: String(i) }));
    expect((await stalledStore.markPublished(stalled.shards, acks)).size).toBe(0);
    expect(
      await stalledStore.markFailed(
        stalled.shards,
        acks.map((a) => ({ id: a.id, error: 'x', retryInMs: 0 })),
        1,
      ),
    ).toEqual([]);
    const { rows } = await pool.query(
      `select status, attempts, count(*)::int as n from outbox_event group by 1, 2`,
    );
    expect(rows).toEqual([{ status: 'PENDING', attempts: 0, n: 100 }]);

    // Its heartbeat notices the loss instead of renewing.
    await stalled.heartbeat();
    expect(stalled.shards.size).toBe(0);

    // The new owner's marks go through.
    const successorStore = new OutboxStore(pool, 'successor');
    expect((await successorStore.markPublished(successor.shards, acks)).size).toBe(acks.length);
  });

  it('spreads shards evenly over live relays and gives extras back when one joins', async () => {
    const options = { shardCount: 10, leaseMs: 5000 };
    const db2 = await createTestDatabase('spread');
    await migrate(db2.url);
    const p2 = new pg.Pool({ connectionString: db2.url, max: 2 });
    try {
      const a = new ShardOwnership(p2, { ...options, owner: 'a' }, log);
      await a.ensureShardRows();
      await a.heartbeat();
      expect(a.shards.size).toBe(10);
      const b = new ShardOwnership(p2, { ...options, owner: 'b' }, log);
      await b.heartbeat(); // nothing free yet
      expect(b.shards.size).toBe(0);
      await a.heartbeat();
      await a.releaseExtras(); // share is now ceil(10 / 2) = 5
      expect(a.shards.size).toBe(5);
      await b.heartbeat();
      expect(b.shards.size).toBe(5);
      expect(new Set([...a.shards.keys(), ...b.shards.keys()]).size).toBe(10);
    } finally {
      await p2.end();
      await db2.drop();
    }
  });

  it('a release/heartbeat race cannot hand a shard back to its old owner', async () => {
    const options = { shardCount: 8, leaseMs: 10_000 };
    const db3 = await createTestDatabase('race');
    await migrate(db3.url);
    const p3 = new pg.Pool({ connectionString: db3.url, max: 8 });
    try {
      const a = new ShardOwnership(p3, { ...options, owner: 'a' }, log);
      await a.ensureShardRows();
      await a.heartbeat();
      expect(a.shards.size).toBe(8);
      const b = new ShardOwnership(p3, { ...options, owner: 'b' }, log);
      await b.heartbeat(); // b is live: a's share drops to 4 at its next heartbeat
      const epochsBefore = new Map(a.shards);

      // The relay loop releases extras while the heartbeat timer fires: started together, not awaited
      // one by one, several rounds, with b taking what is freed in between.
      for (let round = 0; round < 5; round++) {
        await Promise.all([
          a.heartbeat(),
          a.releaseExtras(),
          a.heartbeat(),
          b.heartbeat(),
          a.releaseExtras(),
        ]);
      }
      await b.heartbeat();

      const { rows } = await p3.query<{ shard: number; owner: string | null; epoch: string }>(
        'select shard, owner, epoch from relay_shard order by shard',
      );
      // What each relay believes it holds is exactly what the table says it holds, at that epoch.
      for (const [who, relay] of [
        ['a', a],
        ['b', b],
      ] as const) {
        const inTable = rows.filter((r) => r.owner === who).map((r) => [r.shard, r.epoch]);
        expect([...relay.shards].sort((x, y) => x[0] - y[0])).toEqual(inTable);
      }
      expect(a.shards.size).toBe(4);
      expect(b.shards.size).toBe(4);
      // Every shard a gave away went to b once (epoch + 1) and never came back to a.
      for (const r of rows.filter((row) => row.owner === 'b')) {
        expect(BigInt(r.epoch)).toBe(BigInt(epochsBefore.get(r.shard)!) + 1n);
      }
      for (const [shard, epoch] of a.shards) expect(epoch).toBe(epochsBefore.get(shard));
    } finally {
      await p3.end();
      await db3.drop();
    }
  });

  it('never lets a later event of a product overtake an earlier unpublished one, in any shard', async () => {
    const options = { shardCount: 4, leaseMs: 10_000 };
    const db4 = await createTestDatabase('overtake');
    await migrate(db4.url);
    const p4 = new pg.Pool({ connectionString: db4.url, max: 4 });
    try {
      const a = new ShardOwnership(p4, { ...options, owner: 'a' }, log);
      await a.ensureShardRows();
      await a.heartbeat();
      const b = new ShardOwnership(p4, { ...options, owner: 'b' }, log);
      await b.heartbeat();
      await a.heartbeat();
      await a.releaseExtras();
      await b.heartbeat();
      const [aShard] = [...a.shards.keys()];
      const [bShard] = [...b.shards.keys()];
      expect(a.shards.has(bShard!)).toBe(false);
      // One product whose events landed in two shards (what a changed shard count would do):
      // version 1 in b's shard, version 2 in a's.
      const product = newId();
      const event = (version: number, shard: number) => ({
        ...buildProductEvent(
          version === 1 ? 'product.created' : 'product.updated',
          productSnapshot(product, version),
          {
            shardCount: 4,
            topic: 't',
          },
        ),
        shard,
      });
      await insertEvents(p4, [event(1, bShard!), event(2, aShard!)]);

      const aStore = new OutboxStore(p4, 'a');
      expect(await aStore.claim(a.shards, 100)).toEqual([]); // v2 waits for v1, which is b's
      const bStore = new OutboxStore(p4, 'b');
      const [v1] = await bStore.claim(b.shards, 100);
      expect(v1?.aggregateId).toBe(product);
      expect((await bStore.markPublished(b.shards, [{ id: v1!.id, partition: 0, offset: '0' }])).size).toBe(
        1,
      );
      expect((await aStore.claim(a.shards, 100)).map((e) => e.aggregateId)).toEqual([product]);
    } finally {
      await p4.end();
      await db4.drop();
    }
  });
});
