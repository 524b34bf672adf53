import { SELLER, bearer, jsonInit, rowCounts, startApi } from './api-under-test.js';
import type { ApiUnderTest } from './api-under-test.js';

describe('Idempotency-Key on POST /products', () => {
  let api: ApiUnderTest;
  let auth: Record<string, string>;
  beforeAll(async () => {
    api = await startApi();
    auth = bearer(await api.token(SELLER));
  });
  afterAll(() => api.close());

  const body = { title: 'Kettle', price: '20.00', stock: 4 };

  it('replays the original response for the same key and body, writing nothing more', async () => {
    const first = await api.request(
      '/products',
      jsonInit('POST', body, { ...auth, 'Idempotency-Key': 'order-1' }),
    );
    expect(first.status).toBe(201);
    const original = await first.json();
    const after = await rowCounts(api.sql);

    // Same content, other key order and spacing: still the same request.
    const again = await api.request(
      '/products',
      jsonInit('POST', '{ "stock": 4, "price": "20.00",  "title": "Kettle" }', {
        ...auth,
        'Idempotency-Key': 'order-1',
      }),
    );
    expect(again.status).toBe(201);
    expect(again.headers.get('Idempotent-Replayed')).toBe('true');
    expect(again.headers.get('Location')).toBe(first.headers.get('Location'));
    expect(await again.json()).toEqual(original);
    expect(await rowCounts(api.sql)).toEqual(after);
  });

  it('answers 422 for the same key with a different body, writing nothing', async () => {
    await api.request('/products', jsonInit('POST', body, { ...auth, 'Idempotency-Key': 'order-2' }));
    const before = await rowCounts(api.sql);
    const res = await api.request(
      '/products',
      jsonInit('POST', { ...body, stock: 5 }, { ...auth, 'Idempotency-Key': 'order-2' }),
    );
    expect(res.status).toBe(422);
    expect(res.headers.get('Content-Type')).toBe('application/problem+json');
    expect(await res.json()).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
    expect(await rowCounts(api.sql)).toEqual(before);
  });

  it('creates once when the same key arrives concurrently', async () => {
    const before = await rowCounts(api.sql);
    const responses = await Promise.all(
      Array.from({ length: 5 }, () =>
        api.request('/products', jsonInit('POST', body, { ...auth, 'Idempotency-Key': 'order-3' })),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
    const ids = new Set(
      await Promise.all(responses.map(async (r) => ((await r.json()) as { id: string }).id)),
    );
    expect(ids.size).toBe(1);
    const after = await rowCounts(api.sql);
    expect(after).toEqual({
      products: before.products + 1,
      events: before.events + 1,
      keys: before.keys + 1,
    });
  });

  it('scopes keys per seller and forgets them after 24 hours', async () => {
    const other = bearer(await api.token('9c5b94b1-35ad-49bb-b118-8e8fc24abf80'));
    const a = await api.request(
      '/products',
      jsonInit('POST', body, { ...auth, 'Idempotency-Key': 'shared-key' }),
    );
    const b = await api.request(
      '/products',
      jsonInit('POST', body, { ...other, 'Idempotency-Key': 'shared-key' }),
    );
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(b.headers.get('Idempotent-Replayed')).toBeNull();

    await api.sql.query(
      `update idempotency_key set created_at = now() - interval '25 hours' where key = 'shared-key'`,
    );
    const before = await rowCounts(api.sql);
    const fresh = await api.request(
      '/products',
      jsonInit('POST', { ...body, stock: 9 }, { ...auth, 'Idempotency-Key': 'shared-key' }),
    );
    expect(fresh.status).toBe(201);
    expect(fresh.headers.get('Idempotent-Replayed')).toBeNull();
    expect(await rowCounts(api.sql)).toEqual({
      ...before,
      products: before.products + 1,
      events: before.events + 1,
    });
  });
});
