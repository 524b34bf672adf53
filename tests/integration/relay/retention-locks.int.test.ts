import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { attachPartitionSql, createPartitionTableSql } from '@shopstream/relay';
import { SELLER, bearer, jsonInit, startApi } from '../api/api-under-test.js';
import type { ApiUnderTest } from '../api/api-under-test.js';

const HOUR = 3_600_000;

/**
 * The facts the outbox partition scheme rests on (see OutboxMaintenance's doc comment), checked on
 * the PostgreSQL the suite runs against, so an upgrade that changes one of them fails here.
 */
describe('outbox partition DDL and the locks writers need', () => {
  let api: ApiUnderTest;
  const client = async () => {
    const c = new pg.Client({ connectionString: api.db.url });
    c.on('error', () => undefined);
    await c.connect();
    return c;
  };

  beforeAll(async () => {
    api = await startApi();
  });
  afterAll(() => api.close());

  it('an API write takes no lock on the published subtree: it completes while DDL holds ACCESS EXCLUSIVE on all of it', async () => {
    const auth = bearer(await api.token(SELLER));
    const ddl = await client();
    try {
      await ddl.query('begin');
      // What the partition DDL takes, at its strongest: every published table, exclusively.
      await ddl.query('lock table outbox_event_published in access exclusive mode');
      const latencies: number[] = [];
      for (let i = 0; i < 20; i++) {
        const started = performance.now();
        const res = await api.request(
          '/products',
          jsonInit(
            'POST',
            { title: `Locked out ${i}`, price: 2, stock: 1 },
            { ...auth, 'Idempotency-Key': randomUUID() },
          ),
        );
        expect(res.status).toBe(201);
        latencies.push(performance.now() - started);
      }
      // The relay's claim reads only the unpublished partition: not blocked either.
      const { rows } = await api.sql.query<{ n: number }>(
        `select count(*)::int as n from outbox_event_unpublished where status = 'PENDING'`,
      );
      expect(rows[0]!.n).toBe(20);
      expect(Math.max(...latencies)).toBeLessThan(1_000);
      // Still holding the lock: the writes did not wait for it.
      const { rows: held } = await ddl.query<{ n: number }>(
        `select count(*)::int as n from pg_locks where pid = pg_backend_pid() and mode = 'AccessExclusiveLock'
           and relation = 'outbox_event_published_default'::regclass`,
      );
      expect(held[0]!.n).toBe(1);
    } finally {
      await ddl.query('rollback').catch(() => undefined);
      await ddl.end();
    }
  });

  it('a table created for an hour attaches without being scanned: its CHECK proves the partition constraint', async () => {
    const c = await client();
    const notices: string[] = [];
    c.on('notice', (n) => notices.push(n.message ?? ''));
    try {
      const from = new Date(Math.floor(Date.now() / HOUR) * HOUR + 200 * HOUR);
      const to = new Date(from.getTime() + HOUR);
      const name = `outbox_event_p${from.toISOString().slice(0, 13).replace(/[-T]/g, '')}`;
      await c.query(createPartitionTableSql(name, from, to));
      await c.query('set client_min_messages = debug1');
      await c.query(attachPartitionSql(name, from, to));
      await c.query('reset client_min_messages');
      expect(notices).toContain(
        `partition constraint for table "${name}" is implied by existing constraints`,
      );
      // The published default (no proof possible) is the only table verified under the lock.
      expect(notices.filter((n) => n.startsWith('verifying table'))).toEqual([
        'verifying table "outbox_event_published_default"',
      ]);
      await c.query(`alter table outbox_event_published detach partition "${name}"`);
      await c.query(`drop table "${name}"`);
    } finally {
      await c.end();
    }
  });

  it('DETACH … CONCURRENTLY is refused while the published default exists (PostgreSQL 15), hence detach under lock_timeout', async () => {
    const c = await client();
    try {
      const from = new Date(Math.floor(Date.now() / HOUR) * HOUR + 300 * HOUR);
      const to = new Date(from.getTime() + HOUR);
      const name = `outbox_event_p${from.toISOString().slice(0, 13).replace(/[-T]/g, '')}`;
      await c.query(createPartitionTableSql(name, from, to));
      await c.query(attachPartitionSql(name, from, to));
      await expect(
        c.query(`alter table outbox_event_published detach partition "${name}" concurrently`),
      ).rejects.toThrow('cannot detach partitions concurrently when a default partition exists');
      await c.query(`alter table outbox_event_published detach partition "${name}"`);
      await c.query(`drop table "${name}"`);
    } finally {
      await c.end();
    }
  });
});
