import pg from 'pg';
import { migrate } from '@shopstream/shared';
import { startPrivatePostgres, waitFor } from '../../harness/index.js';
import type { PrivatePostgres } from '../../harness/index.js';
import { blockedGauge, consumerFixture, dlqRecordCount, productEvents } from './consumer-fixture.js';
import type { ConsumerFixture } from './consumer-fixture.js';

// DESIGN §9 "PostgreSQL restart / failover", the consumer's side: the server ends every session
// (a fast stop: 57P01) while the consumer is inside an inbox transaction, stays down for seconds and
// comes back. The consumer must outlive it — block, retry, resume — with nothing dead-lettered and
// every event applied once. A connection checked out of a pg pool has no 'error' listener of the
// pool's; without one of the consumer's, the server's goodbye is an uncaught exception that kills it
// (found by the soak: every PostgreSQL restart crashed one or both consumers).

describe('consumer through a PostgreSQL restart', () => {
  let server: PrivatePostgres;
  let f: ConsumerFixture;
  let sql: pg.Pool;

  beforeAll(async () => {
    server = await startPrivatePostgres();
    await migrate(server.url);
    sql = new pg.Pool({ connectionString: server.url, max: 3 });
    sql.on('error', () => undefined); // idle clients ended by the stop
    f = await consumerFixture({ partitions: 3 });
  });
  afterAll(async () => {
    await f?.close();
    await sql?.end();
    await server?.destroy();
  });

  it('survives the server ending its session mid-transaction, blocks while it is down, and applies every event once when it is back', async () => {
    const all = productEvents(20, 2, f.topic); // 20 creates, then an update of each
    const [created, updated] = [all.slice(0, 20), all.slice(20)];
    const applied = async (): Promise<number> =>
      (await sql.query<{ n: number }>('select count(*)::int as n from processed_event')).rows[0]!.n;

    await f.produce(created);
    const consumer = await f.startConsumer({
      DATABASE_URL: server.url,
      CONSUMER_RETRY_BASE_MS: '100',
      CONSUMER_RETRY_MAX_MS: '1000',
    });
    await waitFor(async () => (await applied()) === 20, { description: 'the 20 creates applied' });

    // Hold the read model so the consumer's next transaction waits inside it, its connection checked out.
    const holder = new pg.Client({ connectionString: server.url });
    holder.on('error', () => undefined); // ended by the stop below, like every session
    await holder.connect();
    await holder.query('begin');
    await holder.query('lock table product_search in access exclusive mode');
    await f.produce(updated);
    await waitFor(
      async () =>
        (
          await sql.query<{ n: number }>(
            `select count(*)::int as n from pg_stat_activity
              where application_name = 'shopstream-consumer' and wait_event_type = 'Lock'`,
          )
        ).rows[0]!.n > 0,
      { description: 'a consumer transaction waiting for the read model' },
    );

    await server.stop(); // ends every session, the consumer's open transaction included
    await waitFor(async () => (await blockedGauge(f, consumer)) === 1, {
      description: 'shopstream_consumer_blocked to be 1 while PostgreSQL is down',
    });
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(consumer.child.exitCode).toBeNull();
    await server.start();

    await waitFor(async () => (await applied()) === 40, {
      description: 'all 40 events applied after the restart',
      timeoutMs: 60_000,
    });
    await waitFor(async () => (await blockedGauge(f, consumer)) === 0, { description: 'blocked back to 0' });
    expect(consumer.child.exitCode).toBeNull();
    expect(consumer.output()).not.toMatch(/Unhandled 'error' event/);
    expect(await dlqRecordCount(f)).toBe(0);
    const { rows } = await sql.query<{ n: number }>(
      'select count(*)::int as n from product_search where source_version = 2 and stock = 20',
    );
    expect(rows[0]!.n).toBe(20);
    // Applied once, not twice: seller_stats moves by deltas, so a second application would show here.
    const stats = await sql.query<{ product_count: number; total_stock: string }>(
      'select product_count, total_stock from seller_stats',
    );
    expect(stats.rows).toEqual([{ product_count: 20, total_stock: '400' }]);
    await holder.end().catch(() => undefined);
  });
});
