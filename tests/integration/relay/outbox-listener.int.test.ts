import pg from 'pg';
import { pino } from 'pino';
import { OutboxListener } from '@shopstream/relay';
import { createTestDatabase, waitFor } from '../../harness/index.js';
import type { TestDatabase } from '../../harness/index.js';

describe('the outbox listener', () => {
  let db: TestDatabase;
  let sql: pg.Pool;
  beforeAll(async () => {
    db = await createTestDatabase('listen');
    sql = new pg.Pool({ connectionString: db.url, max: 2 });
  });
  afterAll(async () => {
    await sql.end();
    await db.drop();
  });

  it('wakes on NOTIFY with the shard, and listens again after its connection is killed', async () => {
    const heard: (number | undefined)[] = [];
    const listener = new OutboxListener(db.url, (shard) => heard.push(shard), pino({ level: 'silent' }));
    listener.start();
    try {
      await waitFor(() => listener.listening, { description: 'LISTEN to be active' });
      await sql.query(`select pg_notify('outbox_event', '17')`);
      await waitFor(() => heard.includes(17), { description: 'notification for shard 17' });

      // What a PostgreSQL restart does to the connection: the server ends it.
      const { rows } = await sql.query<{ n: number }>(
        `select count(pg_terminate_backend(pid))::int as n from pg_stat_activity
         where datname = current_database() and query ilike 'LISTEN%'`,
      );
      expect(rows[0]!.n).toBe(1);
      await waitFor(() => !listener.listening, { description: 'the listener to notice' }).catch(
        () => undefined,
      );
      await waitFor(() => listener.listening, { description: 'LISTEN again', timeoutMs: 15_000 });
      await sql.query(`select pg_notify('outbox_event', '42')`);
      await waitFor(() => heard.includes(42), {
        description: 'notification for shard 42 after reconnecting',
      });
    } finally {
      await listener.stop();
    }
  });
});
