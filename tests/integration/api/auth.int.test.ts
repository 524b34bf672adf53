import { sign } from 'hono/jwt';
import { JWT_SECRET, OTHER_SELLER, SELLER, bearer, jsonInit, rowCounts, startApi } from './api-under-test.js';
import type { ApiUnderTest } from './api-under-test.js';

describe('seller authentication and ownership', () => {
  let api: ApiUnderTest;
  let productId: string;
  beforeAll(async () => {
    api = await startApi();
    const res = await api.request(
      '/products',
      jsonInit('POST', { title: 'Mine', price: 5, stock: 1 }, bearer(await api.token(SELLER))),
    );
    productId = ((await res.json()) as { id: string }).id;
  });
  afterAll(() => api.close());

  const body = { title: 'Hat', price: 9.5, stock: 2 };

  async function expectRefused(res: Response, status: number): Promise<Record<string, unknown>> {
    expect(res.status).toBe(status);
    expect(res.headers.get('Content-Type')).toBe('application/problem+json');
    if (status === 401) expect(res.headers.get('WWW-Authenticate')).toMatch(/^Bearer /);
    return (await res.json()) as Record<string, unknown>;
  }

  it('refuses writes without a token (401), writing nothing', async () => {
    const before = await rowCounts(api.sql);
    await expectRefused(await api.request('/products', jsonInit('POST', body)), 401);
    await expectRefused(await api.request(`/products/${productId}`, { method: 'DELETE' }), 401);
    expect(await rowCounts(api.sql)).toEqual(before);
  });

  it('refuses an expired token (401)', async () => {
    const before = await rowCounts(api.sql);
    const expired = await api.token(SELLER, { exp: Math.floor(Date.now() / 1000) - 60 });
    const problem = await expectRefused(
      await api.request('/products', jsonInit('POST', body, bearer(expired))),
      401,
    );
    expect(problem.detail).toMatch(/expired/i);
    expect(await rowCounts(api.sql)).toEqual(before);
  });

  it('refuses a token without exp (401): every token must expire', async () => {
    const before = await rowCounts(api.sql);
    const forever = await sign({ sub: SELLER }, JWT_SECRET, 'HS256');
    const problem = await expectRefused(
      await api.request('/products', jsonInit('POST', body, bearer(forever))),
      401,
    );
    expect(problem.detail).toMatch(/no exp/);
    expect(await rowCounts(api.sql)).toEqual(before);
  });

  it('refuses a token signed with another key (401)', async () => {
    const before = await rowCounts(api.sql);
    const forged = await api.token(SELLER, { secret: 'another-secret-of-at-least-32-characters!!' });
    await expectRefused(await api.request('/products', jsonInit('POST', body, bearer(forged))), 401);
    expect(await rowCounts(api.sql)).toEqual(before);
  });

  it('refuses a token whose subject is not a seller id (401) and a non-Bearer scheme (401)', async () => {
    const before = await rowCounts(api.sql);
    const odd = await api.token('admin');
    await expectRefused(await api.request('/products', jsonInit('POST', body, bearer(odd))), 401);
    await expectRefused(
      await api.request('/products', jsonInit('POST', body, { Authorization: 'Basic dXNlcjpwdw==' })),
      401,
    );
    expect(await rowCounts(api.sql)).toEqual(before);
  });

  it('refuses a body seller_id that differs from the token (403)', async () => {
    const before = await rowCounts(api.sql);
    const res = await api.request(
      '/products',
      jsonInit('POST', { ...body, seller_id: OTHER_SELLER }, bearer(await api.token(SELLER))),
    );
    await expectRefused(res, 403);
    expect(await rowCounts(api.sql)).toEqual(before);
  });

  it("refuses PATCH and DELETE of another seller's product (403), leaving it unchanged", async () => {
    const before = await rowCounts(api.sql);
    const other = bearer(await api.token(OTHER_SELLER));
    await expectRefused(
      await api.request(
        `/products/${productId}`,
        jsonInit('PATCH', { stock: 0 }, { ...other, 'If-Match': '1' }),
      ),
      403,
    );
    await expectRefused(
      await api.request(`/products/${productId}`, { method: 'DELETE', headers: other }),
      403,
    );
    expect(await rowCounts(api.sql)).toEqual(before);
    const product = (await (await api.request(`/products/${productId}`)).json()) as {
      version: number;
      stock: number;
    };
    expect(product).toMatchObject({ version: 1, stock: 1 });
  });

  it('keeps reads public', async () => {
    expect((await api.request(`/products/${productId}`)).status).toBe(200);
    expect((await api.request(`/products?seller_id=${SELLER}`)).status).toBe(200);
  });
});
