import pg from 'pg';
import { pino } from 'pino';
import { migrate } from '@shopstream/shared';
import { OutboxMaintenance } from '@shopstream/relay';
import { createTestDatabase, seedOutbox } from '../../harness/index.js';
import type { TestDatabase } from '../../harness/index.js';

const SELLER = '3fa85f64-5717-4562-b3fc-2c963f66afa6';

/**
 * What grows without bound is purged in bounded batches (issue 13, item 4): expired idempotency
 * keys, stale relay members, DEAD/SKIPPED outbox rows past their retention — and nothing fresh.
 * Ages are set on the database clock, as the API and the relay write them.
 */
describe('outbox maintenance purges', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  const log = pino({ level: 'silent' });

  beforeAll(async () => {
    db = await createTestDatabase('retention_purge');
    await migrate(db.url);
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
    pool.on('error', () => undefined);
  });
  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  const keys = (prefix: string, n: number, age: string) =>
    pool.query(
      `insert into idempotency_key (seller_id, key, request_hash, response, created_at)
       select $1, $2 || i, 'h', '{}', now() - $3::interval from generate_series(1, $4) as i`,
      [SELLER, prefix, age, n],
    );
  const count = async (sql: string, params: unknown[] = []) =>
    (await pool.query<{ n: number }>(sql, params)).rows[0]!.n;

  it('removes expired idempotency keys, stale relay members and old DEAD/SKIPPED rows, keeps fresh ones', async () => {
    await keys('expired-', 2_500, '25 hours');
    await keys('fresh-', 10, '23 hours');
    await pool.query(
      `insert into relay_member (owner, started_at, lease_until) values
         ('gone-1', now() - interval '3 days', now() - interval '2 hours'),
         ('gone-2', now() - interval '3 days', now() - interval '61 minutes'),
         ('lapsed-recently', now() - interval '1 hour', now() - interval '10 minutes'),
         ('live', now(), now() + interval '10 seconds')`,
    );

    // Products with two events each; the status and age of each event set below.
    const products = await seedOutbox(pool, { topic: 't', products: 8, eventsPerProduct: 2 });
    const set = (product: number, version: number, status: string, age: string) =>
      pool.query(
        `update outbox_event set status = $3, created_at = now() - $4::interval,
           published_at = case when $3 = 'PUBLISHED' then now() end
         where aggregate_id = $1 and aggregate_version = $2`,
        [products[product], version, status, age],
      );
    await set(0, 1, 'DEAD', '31 days'); // old DEAD, v2 published: purged
    await set(0, 2, 'PUBLISHED', '31 days');
    await set(1, 1, 'SKIPPED', '31 days'); // old SKIPPED: purged (v2 stays PENDING)
    await set(2, 1, 'DEAD', '31 days'); // old DEAD, and v2 also DEAD: both purged
    await set(2, 2, 'DEAD', '31 days');
    await set(3, 1, 'DEAD', '31 days'); // old DEAD with v2 PENDING behind it: kept (an operator decides)
    await set(4, 1, 'DEAD', '29 days'); // recent DEAD: kept
    await set(5, 1, 'SKIPPED', '29 days'); // recent SKIPPED: kept
    await set(6, 1, 'PENDING', '40 days'); // PENDING rows are never purged, however old

    const maintenance = new OutboxMaintenance(pool, log, { purgeBatchSize: 1_000 });
    const report = await maintenance.run();
    expect(report.failed).toEqual([]);
    expect(report.deferred).toEqual([]);
    expect(report.purged).toEqual({
      idempotencyKeys: 2_500,
      relayMembers: 2,
      deadEvents: 3,
      skippedEvents: 1,
      publishedDefault: 0,
    });
    expect(report.deadEventsKept).toBe(1);

    expect(await count(`select count(*)::int as n from idempotency_key where key like 'expired-%'`)).toBe(0);
    expect(await count(`select count(*)::int as n from idempotency_key where key like 'fresh-%'`)).toBe(10);
    const { rows: members } = await pool.query<{ owner: string }>(
      'select owner from relay_member order by 1',
    );
    expect(members.map((m) => m.owner)).toEqual(['lapsed-recently', 'live']);
    const { rows: events } = await pool.query<{ p: number; v: number; status: string }>(
      `select array_position($1::uuid[], aggregate_id) - 1 as p, aggregate_version as v, status
       from outbox_event order by 1, 2`,
      [products],
    );
    const left = events.map((e) => `${e.p}v${e.v}:${e.status}`);
    expect(left).toEqual([
      '0v2:PUBLISHED',
      '1v2:PENDING',
      '3v1:DEAD',
      '3v2:PENDING',
      '4v1:DEAD',
      '4v2:PENDING',
      '5v1:SKIPPED',
      '5v2:PENDING',
      '6v1:PENDING',
      '6v2:PENDING',
      '7v1:PENDING',
      '7v2:PENDING',
    ]);

    // Nothing left to do: a second run deletes nothing.
    const again = await maintenance.run();
    expect(again.purged).toEqual({
      idempotencyKeys: 0,
      relayMembers: 0,
      deadEvents: 0,
      skippedEvents: 0,
      publishedDefault: 0,
    });
  });

  it('deletes in batches, at most purgeMaxBatches statements per table per run; the next run goes on', async () => {
    await pool.query('delete from idempotency_key');
    await keys('old-', 250, '2 days');
    const maintenance = new OutboxMaintenance(pool, log, { purgeBatchSize: 100, purgeMaxBatches: 2 });
    const first = await maintenance.run({ steps: ['idempotencyKeys'] });
    expect(first.purged.idempotencyKeys).toBe(200);
    const second = await maintenance.run({ steps: ['idempotencyKeys'] });
    expect(second.purged.idempotencyKeys).toBe(50);
    expect(await count('select count(*)::int as n from idempotency_key')).toBe(0);
  });

  it('lets one relay run at a time: a second one skips while the first holds the advisory lock', async () => {
    const holder = await pool.connect();
    try {
      await holder.query(`select pg_advisory_lock(hashtext('shopstream.outbox_retention'))`);
      const skipped = await new OutboxMaintenance(pool, log).run();
      expect(skipped.ran).toBe(false);
      await holder.query(`select pg_advisory_unlock(hashtext('shopstream.outbox_retention'))`);
      expect((await new OutboxMaintenance(pool, log).run()).ran).toBe(true);
    } finally {
      holder.release();
    }
  });
});
