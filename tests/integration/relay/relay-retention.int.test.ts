import pg from 'pg';
import { pino } from 'pino';
import { migrate } from '@shopstream/shared';
import { OutboxMaintenance } from '@shopstream/relay';
import { createTestDatabase, seedOutbox } from '../../harness/index.js';
import type { TestDatabase } from '../../harness/index.js';

const HOUR = 3_600_000;

/** The partition steps of a maintenance run only, at a clock each case sets. */
const partitionSteps = (pool: pg.Pool) => ({
  maintain: (o: { retentionHours: number; hoursAhead?: number; now: Date }) =>
    new OutboxMaintenance(pool, pino({ level: 'silent' }), {
      retentionHours: o.retentionHours,
      ...(o.hoursAhead !== undefined ? { hoursAhead: o.hoursAhead } : {}),
    }).run({ now: o.now, steps: ['publishedDefault', 'createPartitions', 'dropPartitions'] }),
});

describe('outbox retention', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  beforeAll(async () => {
    db = await createTestDatabase('retention');
    await migrate(db.url);
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
  });
  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  it('drops whole hourly partitions of published rows older than the window and touches nothing else', async () => {
    const retention = partitionSteps(pool);
    const now = new Date();
    // Partitions from 31 hours ago up to 24 hours ahead, without a gap.
    await retention.maintain({
      retentionHours: 1000,
      hoursAhead: 31,
      now: new Date(now.getTime() - 30 * HOUR),
    });
    await retention.maintain({ retentionHours: 1000, hoursAhead: 24, now });

    await seedOutbox(pool, { topic: 't', products: 40, eventsPerProduct: 1 });
    const { rows: ids } = await pool.query<{ id: string }>('select id from outbox_event order by seq');
    const at = (hoursAgo: number) => new Date(now.getTime() - hoursAgo * HOUR);
    const mark = (slice: { id: string }[], when: Date) =>
      pool.query(
        `update outbox_event set status = 'PUBLISHED', published_at = $2 where id = any($1::uuid[])`,
        [slice.map((r) => r.id), when],
      );
    await mark(ids.slice(0, 10), at(26)); // old: must go
    await mark(ids.slice(10, 20), at(2)); // recent: must stay
    await pool.query(`update outbox_event set status = 'DEAD', created_at = $2 where id = any($1::uuid[])`, [
      ids.slice(20, 25).map((r) => r.id),
      at(48),
    ]); // old but DEAD: must stay; the rest stay PENDING

    const where = await pool.query<{ partition: string; n: number }>(
      `select tableoid::regclass::text as partition, count(*)::int as n from outbox_event group by 1 order by 1`,
    );
    expect(where.rows.find((r) => r.partition === 'outbox_event_unpublished')?.n).toBe(20);
    expect(where.rows).toHaveLength(3); // moved into their hourly partitions by the UPDATE

    const { dropped } = await retention.maintain({ retentionHours: 24, now });
    expect(dropped.length).toBeGreaterThanOrEqual(6); // 30h back .. 24h back, at least
    const { rows } = await pool.query<{ status: string; n: number }>(
      'select status, count(*)::int as n from outbox_event group by status order by status',
    );
    expect(rows).toEqual([
      { status: 'DEAD', n: 5 },
      { status: 'PENDING', n: 15 },
      { status: 'PUBLISHED', n: 10 },
    ]);
    const { rows: left } = await pool.query<{ n: number }>(
      `select count(*)::int as n from outbox_event where published_at < $1`,
      [at(24)],
    );
    expect(left[0]!.n).toBe(0);
  });

  it('moves published rows that landed in the published default into the partition created for their hour', async () => {
    const retention = partitionSteps(pool);
    const products = await seedOutbox(pool, { topic: 't', products: 3, eventsPerProduct: 1 });
    const future = new Date(Date.now() + 100 * HOUR); // no partition exists that far ahead
    await pool.query(
      `update outbox_event set status = 'PUBLISHED', published_at = $1 where aggregate_id = any($2::uuid[])`,
      [future, products],
    );
    const inDefault = async () =>
      (await pool.query<{ n: number }>(`select count(*)::int as n from outbox_event_published_default`))
        .rows[0]!.n;
    expect(await inDefault()).toBe(3); // the mark did not fail for want of a partition
    const { created } = await retention.maintain({ retentionHours: 1000, hoursAhead: 1, now: future });
    expect(created.length).toBeGreaterThan(0);
    expect(await inDefault()).toBe(0);
    const { rows } = await pool.query<{ partition: string; n: number }>(
      `select tableoid::regclass::text as partition, count(*)::int as n from outbox_event
       where published_at = $1 group by 1`,
      [future],
    );
    expect(rows).toEqual([
      { partition: `outbox_event_p${future.toISOString().slice(0, 13).replace(/[-T]/g, '')}`, n: 3 },
    ]);
  });

  it('drains more than a batch of such rows outside the lock, then attaches; nothing is lost', async () => {
    const products = await seedOutbox(pool, { topic: 't', products: 7, eventsPerProduct: 1 });
    const hour = new Date(Math.floor(Date.now() / HOUR) * HOUR + 150 * HOUR);
    await pool.query(
      `update outbox_event set status = 'PUBLISHED', published_at = $1::timestamptz + (random() * interval '59 minutes')
       where aggregate_id = any($2::uuid[])`,
      [hour, products],
    );
    const maintenance = new OutboxMaintenance(pool, pino({ level: 'silent' }), {
      retentionHours: 1000,
      hoursAhead: 0,
      purgeBatchSize: 2,
    });
    const report = await maintenance.run({ steps: ['createPartitions'] });
    const name = `outbox_event_p${hour.toISOString().slice(0, 13).replace(/[-T]/g, '')}`;
    expect(report.created).toContain(name);
    expect(report.movedFromDefault).toBe(7);
    expect(report.deferred).toEqual([]);
    const { rows } = await pool.query<{ partition: string; n: number }>(
      `select tableoid::regclass::text as partition, count(*)::int as n from outbox_event
       where aggregate_id = any($1::uuid[]) group by 1`,
      [products],
    );
    expect(rows).toEqual([{ partition: name, n: 7 }]);
  });
});
