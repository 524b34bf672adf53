import { SELLER, bearer, jsonInit, rowCounts, startApi } from './api-under-test.js';
import type { ApiUnderTest } from './api-under-test.js';

describe('a product change and its event commit together or not at all', () => {
  let api: ApiUnderTest;
  let auth: Record<string, string>;
  beforeAll(async () => {
    api = await startApi();
    auth = bearer(await api.token(SELLER));
  });
  afterAll(() => api.close());

  const breakOutbox = () =>
    api.sql.query(`
      create or replace function refuse_outbox() returns trigger language plpgsql as
        $$ begin raise exception 'outbox insert refused by test'; end $$;
      create trigger refuse_outbox before insert on outbox_event for each row execute function refuse_outbox();`);
  const repairOutbox = () => api.sql.query('drop trigger if exists refuse_outbox on outbox_event');
  afterEach(repairOutbox);

  it('fails a create with a problem+json 500 and leaves neither product nor event when the outbox insert fails', async () => {
    await breakOutbox();
    const before = await rowCounts(api.sql);
    const res = await api.request(
      '/products',
      jsonInit('POST', { title: 'Ghost', price: 1, stock: 1 }, { ...auth, 'Idempotency-Key': 'ghost' }),
    );
    expect(res.status).toBe(500);
    expect(res.headers.get('Content-Type')).toBe('application/problem+json');
    const problem = (await res.json()) as { detail: string };
    expect(problem.detail).not.toMatch(/refused by test/); // internals stay in the log
    expect(await rowCounts(api.sql)).toEqual(before);
    const { rows } = await api.sql.query(`select 1 from product where title = 'Ghost'`);
    expect(rows).toHaveLength(0);
  });

  it('rolls back an update (version and fields unchanged) when its event cannot be written', async () => {
    const created = await api.request(
      '/products',
      jsonInit('POST', { title: 'Solid', price: 3, stock: 3 }, auth),
    );
    const { id } = (await created.json()) as { id: string };
    await breakOutbox();
    const res = await api.request(
      `/products/${id}`,
      jsonInit('PATCH', { stock: 0 }, { ...auth, 'If-Match': '1' }),
    );
    expect(res.status).toBe(500);
    await repairOutbox();
    const product = (await (await api.request(`/products/${id}`)).json()) as {
      version: number;
      stock: number;
    };
    expect(product).toMatchObject({ version: 1, stock: 3 });
    const { rows } = await api.sql.query(
      'select count(*)::int as n from outbox_event where aggregate_id = $1',
      [id],
    );
    expect(rows[0].n).toBe(1);
  });
});
