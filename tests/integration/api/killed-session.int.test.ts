import pg from 'pg';
import { waitFor } from '../../harness/index.js';
import { SELLER, bearer, jsonInit, startApi } from './api-under-test.js';
import type { ApiUnderTest } from './api-under-test.js';

/**
 * DESIGN §9 "A PostgreSQL session dies inside a write": a pooled connection whose session ends in
 * the middle of a transaction (a failover, an administrator's pg_terminate_backend, a restart) can
 * neither commit nor roll back. The pool must still get its slot back; with one connection in the
 * pool, a leaked slot would answer every later request 503 until the process restarts.
 */
describe('a PostgreSQL session killed inside a write', () => {
  let api: ApiUnderTest;
  let auth: Record<string, string>;
  beforeAll(async () => {
    api = await startApi({ poolMax: 1, acquireTimeoutMs: 3_000 });
    auth = bearer(await api.token(SELLER));
  });
  afterAll(() => api.close());

  const create = async (title: string): Promise<Response> =>
    api.request('/products', jsonInit('POST', { title, price: 5, stock: 1 }, auth));

  /** Starts a PATCH of `id` that blocks on a row lock, kills its session and returns its answer. */
  const patchWhoseSessionIsKilled = async (id: string): Promise<Response> => {
    const holder = new pg.Client({ connectionString: api.db.url });
    await holder.connect();
    try {
      await holder.query('begin');
      await holder.query('select 1 from product where id = $1 for update', [id]);
      const answer = api.request(
        `/products/${id}`,
        jsonInit('PATCH', { stock: 2 }, { ...auth, 'If-Match': '1' }),
      );
      const pid = await waitFor(
        async () => {
          const { rows } = await api.sql.query<{ pid: number }>(
            `select pid from pg_stat_activity
              where application_name = 'shopstream-api' and wait_event_type = 'Lock'`,
          );
          return rows[0]?.pid;
        },
        { description: "the API's update waiting for the row lock" },
      );
      await api.sql.query('select pg_terminate_backend($1)', [pid]);
      return await answer;
    } finally {
      await holder.query('rollback');
      await holder.end();
    }
  };

  it('answers that write 503 and serves the next requests from the same one-connection pool', async () => {
    const first = await create('Kept');
    expect(first.status).toBe(201);
    const { id } = (await first.json()) as { id: string };

    const killed = await patchWhoseSessionIsKilled(id);
    expect(killed.status).toBe(503);
    expect(killed.headers.get('Content-Type')).toBe('application/problem+json');

    // The pool has one slot: these pass only if the dead session's slot came back.
    for (const title of ['After 1', 'After 2', 'After 3']) {
      const res = await create(title);
      expect({ title, status: res.status }).toEqual({ title, status: 201 });
    }
    const patched = await api.request(
      `/products/${id}`,
      jsonInit('PATCH', { stock: 2 }, { ...auth, 'If-Match': '1' }),
    );
    expect(patched.status).toBe(200);
  });

  it('does the same when the session dies twice in a row', async () => {
    const first = await create('Twice');
    const { id } = (await first.json()) as { id: string };
    expect((await patchWhoseSessionIsKilled(id)).status).toBe(503);
    expect((await patchWhoseSessionIsKilled(id)).status).toBe(503);
    expect((await create('After twice')).status).toBe(201);
  });
});
