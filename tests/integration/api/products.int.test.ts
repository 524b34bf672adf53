import { SELLER, bearer, jsonInit, startApi } from './api-under-test.js';
import type { ApiUnderTest } from './api-under-test.js';

interface OutboxRow {
  id: string;
  seq: string;
  aggregate_id: string;
  aggregate_version: number;
  aggregate_type: string;
  event_type: string;
  topic: string;
  shard: number;
  status: string;
  payload: Record<string, unknown>;
  headers: Record<string, string>;
  created_at: Date;
}

describe('product API writes with a transactional outbox', () => {
  let api: ApiUnderTest;
  let auth: Record<string, string>;
  beforeAll(async () => {
    api = await startApi();
    auth = bearer(await api.token());
  });
  afterAll(() => api.close());

  const events = async (productId: string): Promise<OutboxRow[]> =>
    (
      await api.sql.query<OutboxRow>('select * from outbox_event where aggregate_id = $1 order by seq', [
        productId,
      ])
    ).rows;

  it('creates, reads, updates and deletes a product, one event per write with versions 1, 2, 3, 4 in seq order', async () => {
    const created = await api.request(
      '/products',
      jsonInit('POST', { seller_id: SELLER, title: '  Wireless Mouse ', price: 15.99, stock: 100 }, auth),
    );
    expect(created.status).toBe(201);
    const product = (await created.json()) as Record<string, unknown>;
    expect(product).toMatchObject({
      seller_id: SELLER,
      title: 'Wireless Mouse',
      description: null,
      price: '15.99',
      currency: 'USD',
      stock: 100,
      version: 1,
      deleted_at: null,
    });
    expect(created.headers.get('Location')).toBe(`/products/${product.id}`);
    expect(created.headers.get('ETag')).toBe('"1"');

    const read = await api.request(`/products/${product.id}`);
    expect(read.status).toBe(200);
    expect(await read.json()).toEqual(product);

    const patched = await api.request(
      `/products/${product.id}`,
      jsonInit('PATCH', { price: '12.5', stock: 90 }, { ...auth, 'If-Match': '"1"' }),
    );
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({ price: '12.50', stock: 90, version: 2 });

    const patchedAgain = await api.request(
      `/products/${product.id}`,
      jsonInit('PATCH', { title: 'Silent Wireless Mouse', version: 2 }, auth),
    );
    expect(patchedAgain.status).toBe(200);

    const deleted = await api.request(`/products/${product.id}`, { method: 'DELETE', headers: auth });
    expect(deleted.status).toBe(204);
    expect((await api.request(`/products/${product.id}`)).status).toBe(404);

    const rows = await events(product.id as string);
    expect(rows.map((r) => [r.event_type, r.aggregate_version, r.status])).toEqual([
      ['product.created', 1, 'PENDING'],
      ['product.updated', 2, 'PENDING'],
      ['product.updated', 3, 'PENDING'],
      ['product.deleted', 4, 'PENDING'],
    ]);
    expect(rows.map((r) => Number(r.seq))).toEqual([...rows.map((r) => Number(r.seq))].sort((a, b) => a - b));
    expect(new Set(rows.map((r) => r.shard)).size).toBe(1);
    expect(rows[3]!.payload).toMatchObject({ id: product.id, version: 4, title: 'Silent Wireless Mouse' });
    expect(rows[3]!.payload.deleted_at).toEqual(expect.any(String));
  });

  it('writes the CloudEvents envelope of DESIGN §3 with each event', async () => {
    const res = await api.request(
      '/products',
      jsonInit('POST', { title: 'Keyboard', price: '49.00', stock: 3, currency: 'EUR' }, auth),
    );
    const product = (await res.json()) as { id: string; created_at: string };
    const [event] = await events(product.id);
    expect(event).toBeDefined();
    expect(event!.aggregate_type).toBe('product');
    expect(event!.topic).toBe('product.events');
    expect(event!.shard).toBeGreaterThanOrEqual(0);
    expect(event!.shard).toBeLessThan(64);
    expect(event!.headers).toEqual({
      ce_specversion: '1.0',
      ce_id: event!.id,
      ce_type: 'product.created',
      ce_source: '/shopstream/api',
      ce_subject: product.id,
      ce_time: product.created_at,
      ce_aggregateversion: '1',
      'content-type': 'application/json',
    });
    expect(event!.payload).toEqual(product);
  });

  it('pages through a seller’s products with a keyset cursor that concurrent inserts do not disturb', async () => {
    const seller = '7d444840-9dc0-11d1-b245-5ffdce74fad2';
    const token = bearer(await api.token(seller));
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await api.request(
        '/products',
        jsonInit('POST', { title: `Item ${i}`, price: 1, stock: i }, token),
      );
      ids.push(((await res.json()) as { id: string }).id);
    }
    const page1 = (await (await api.request(`/products?seller_id=${seller}&limit=2`)).json()) as {
      items: { id: string }[];
      next_cursor: string;
    };
    expect(page1.items.map((p) => p.id)).toEqual(ids.slice(0, 2));
    // A product created between page requests lands after the cursor, never inside an earlier page.
    const late = await api.request(
      '/products',
      jsonInit('POST', { title: 'Late', price: 1, stock: 1 }, token),
    );
    const lateId = ((await late.json()) as { id: string }).id;
    const page2 = (await (
      await api.request(`/products?seller_id=${seller}&limit=2&cursor=${page1.next_cursor}`)
    ).json()) as {
      items: { id: string }[];
      next_cursor: string;
    };
    expect(page2.items.map((p) => p.id)).toEqual(ids.slice(2, 4));
    const page3 = (await (
      await api.request(`/products?seller_id=${seller}&limit=2&cursor=${page2.next_cursor}`)
    ).json()) as {
      items: { id: string }[];
      next_cursor: string | null;
    };
    expect(page3.items.map((p) => p.id)).toEqual([ids[4], lateId]);
    expect(page3.next_cursor).toBeNull();
  });

  it('lets exactly one of two concurrent PATCHes at the same version win: one 200, one 409, one event', async () => {
    const res = await api.request(
      '/products',
      jsonInit('POST', { title: 'Lamp', price: 10, stock: 5 }, auth),
    );
    const { id } = (await res.json()) as { id: string };
    const [a, b] = await Promise.all([
      api.request(`/products/${id}`, jsonInit('PATCH', { stock: 4 }, { ...auth, 'If-Match': '1' })),
      api.request(`/products/${id}`, jsonInit('PATCH', { stock: 3 }, { ...auth, 'If-Match': '1' })),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const loser = a.status === 409 ? a : b;
    expect(loser.headers.get('Content-Type')).toBe('application/problem+json');
    expect(await loser.json()).toMatchObject({ status: 409, code: 'CONFLICT' });
    const rows = await events(id);
    expect(rows.map((r) => [r.event_type, r.aggregate_version])).toEqual([
      ['product.created', 1],
      ['product.updated', 2],
    ]);
  });

  it('answers 409 for a stale version and 428 when no version is given, writing nothing', async () => {
    const res = await api.request(
      '/products',
      jsonInit('POST', { title: 'Desk', price: 100, stock: 1 }, auth),
    );
    const { id } = (await res.json()) as { id: string };
    const stale = await api.request(
      `/products/${id}`,
      jsonInit('PATCH', { stock: 2 }, { ...auth, 'If-Match': '"7"' }),
    );
    expect(stale.status).toBe(409);
    const missing = await api.request(`/products/${id}`, jsonInit('PATCH', { stock: 2 }, auth));
    expect(missing.status).toBe(428);
    expect(await missing.json()).toMatchObject({ code: 'PRECONDITION_REQUIRED' });
    expect((await events(id)).length).toBe(1);
  });

  it('reports liveness, readiness and per-route request metrics', async () => {
    expect((await api.request('/healthz')).status).toBe(200);
    expect((await api.request('/readyz')).status).toBe(200);
    const metrics = await (await api.request('/metrics')).text();
    expect(metrics).toMatch(
      /shopstream_http_request_duration_seconds_count\{method="POST",route="\/products",status="201"\} \d+/,
    );
  });
});
