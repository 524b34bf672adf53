import pg from 'pg';
import { newId } from '@shopstream/shared';
import { startApi } from './api-under-test.js';
import type { ApiUnderTest } from './api-under-test.js';

const SELLER = '3fa85f64-5717-4562-b3fc-2c963f66afa6';

describe('the search route is bounded: a candidate cap and its own statement timeout', () => {
  let api: ApiUnderTest;
  beforeAll(async () => {
    api = await startApi({ search: { candidateLimit: 3, statementTimeoutMs: 300 } });
    // The consumer's read model, written directly: 10 products that all match "lamp".
    for (let i = 0; i < 10; i += 1) {
      await api.sql.query(
        `insert into product_search (product_id, seller_id, title, description, price, currency, stock, source_version, event_time)
         values ($1, $2, $3, null, 5, 'USD', 1, 1, now())`,
        [newId(), SELLER, `Desk lamp ${i}`],
      );
    }
  });
  afterAll(() => api.close());

  it('ranks at most SEARCH_CANDIDATE_LIMIT matches, however many rows match', async () => {
    const res = await api.request('/products/search?q=lamp&limit=100');
    expect(res.status).toBe(200);
    const { items } = (await res.json()) as { items: { title: string }[] };
    expect(items).toHaveLength(3);
  });

  it('answers 503 problem+json with Retry-After when the search statement runs past its timeout', async () => {
    // Hold the table exclusively: the search waits on the lock until its statement timeout ends it.
    const holder = new pg.Client({ connectionString: api.db.url });
    await holder.connect();
    try {
      await holder.query('begin');
      await holder.query('lock table product_search in access exclusive mode');
      const res = await api.request('/products/search?q=lamp');
      expect(res.status).toBe(503);
      expect(res.headers.get('Content-Type')).toBe('application/problem+json');
      expect(Number(res.headers.get('Retry-After'))).toBeGreaterThan(0);
      expect(await res.json()).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE' });
    } finally {
      await holder.query('rollback');
      await holder.end();
    }
    expect((await api.request('/products/search?q=lamp')).status).toBe(200);
  });

  it('opens every pooled connection with the statement, idle-in-transaction and keepalive settings', async () => {
    const connection = api.orm.em.getConnection();
    const [statement] = await connection.execute<{ statement_timeout: string }[]>('show statement_timeout');
    const [idle] = await connection.execute<{ idle_in_transaction_session_timeout: string }[]>(
      'show idle_in_transaction_session_timeout',
    );
    const [app] = await connection.execute<{ application_name: string }[]>('show application_name');
    expect([
      statement?.statement_timeout,
      idle?.idle_in_transaction_session_timeout,
      app?.application_name,
    ]).toEqual(['10s', '1min', 'shopstream-api']);
  });
});
