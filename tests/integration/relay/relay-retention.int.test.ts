import pg from 'pg';
import { pino } from 'pino';
import { migrate } from '@shopstream/shared';
import { OutboxRetention } from '@shopstream/relay';
import { createTestDatabase, seedOutbox } from '../../harness/index.js';
import type { TestDatabase } from '../../harness/index.js';

const HOUR = 3_600_000;

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
    const retention = new OutboxRetention(pool, pino({ level: 'silent' }));
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

  it('moves published rows that landed in the unpublished partition into the partition created for their hour', async () => {
    const retention = new OutboxRetention(pool, pino({ level: 'silent' }));
    const products = await seedOutbox(pool, { topic: 't', products: 3, eventsPerProduct: 1 });
    const future = new Date(Date.now() + 100 * HOUR); // no partition exists that far ahead
    await pool.query(
      `update outbox_event set status = 'PUBLISHED', published_at = $1 where aggregate_id = any($2::uuid[])`,
      [future, products],
    );
    const { created } = await retention.maintain({ retentionHours: 1000, hoursAhead: 1, now: future });
    expect(created.length).toBeGreaterThan(0);
    const { rows } = await pool.query<{ n: number }>(
      `select count(*)::int as n from outbox_event_unpublished where published_at is not null`,
    );
    expect(
      (await pool.query(`select count(*)::int as n from outbox_event where published_at = $1`, [future]))
        .rows[0].n,
    ).toBe(3);
    expect(rows[0]!.n).toBe(0);
  });
});
