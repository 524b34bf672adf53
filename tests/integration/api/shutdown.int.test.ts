import pg from 'pg';
import { migrate } from '@shopstream/shared';
import { createTestDatabase, freePort, startService, waitFor } from '../../harness/index.js';
import type { ServiceProcess, TestDatabase } from '../../harness/index.js';
import { JWT_SECRET, SELLER, bearer, jsonInit } from './api-under-test.js';
import { sign } from 'hono/jwt';

describe('the API process on SIGTERM', () => {
  let db: TestDatabase;
  let api: ServiceProcess | undefined;
  beforeAll(async () => {
    db = await createTestDatabase('shutdown');
    await migrate(db.url);
  });
  afterAll(async () => {
    api?.child.kill('SIGKILL');
    await db.drop();
  });

  it('stops accepting connections, finishes the in-flight request, then exits 0', async () => {
    const port = await freePort();
    api = startService('services/api/src/main.ts', {
      DATABASE_URL: db.url,
      JWT_SECRET,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
    });
    const base = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await fetch(`${base}/readyz`)).ok, { description: 'the API to be ready' });

    const auth = bearer(
      await sign({ sub: SELLER, exp: Math.floor(Date.now() / 1000) + 600 }, JWT_SECRET, 'HS256'),
    );
    const created = await fetch(
      `${base}/products`,
      jsonInit('POST', { title: 'Clock', price: 8, stock: 8 }, auth),
    );
    const { id } = (await created.json()) as { id: string };

    // Hold the product's row lock so the PATCH below is provably in flight when SIGTERM arrives.
    const blocker = new pg.Client({ connectionString: db.url });
    await blocker.connect();
    await blocker.query('begin');
    await blocker.query('select 1 from product where id = $1 for update', [id]);
    const inFlight = fetch(
      `${base}/products/${id}`,
      jsonInit('PATCH', { stock: 7 }, { ...auth, 'If-Match': '1' }),
    );
    await waitFor(
      async () => {
        const { rows } = await blocker.query(
          `select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()`,
        );
        return rows[0].n > 0;
      },
      { description: 'the PATCH to wait on the row lock' },
    );

    api.child.kill('SIGTERM');
    await waitFor(() => api!.output().includes('shutting down'), { description: 'the shutdown log line' });
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();

    await blocker.query('rollback');
    await blocker.end();
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ stock: 7, version: 2 });
    expect(await api.exited).toBe(0);
    expect(api.output()).toContain('"msg":"stopped"');
  });
});
