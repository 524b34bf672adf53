import { SELLER, bearer, jsonInit, rowCounts, startApi } from './api-under-test.js';
import type { ApiUnderTest } from './api-under-test.js';

interface Case {
  name: string;
  method?: 'POST' | 'PATCH' | 'GET';
  path?: string;
  body?: unknown;
  headers?: Record<string, string>;
  status: number;
  code: string;
  /** Fields the problem's `errors` must name (all of them, in any order). */
  fields?: string[];
}

const valid = { title: 'Mouse', price: 15.99, stock: 1 };
const big = 'x'.repeat(70 * 1024);

const cases: Case[] = [
  { name: 'malformed JSON', body: '{"title": "Mouse",', status: 400, code: 'MALFORMED_JSON' },
  { name: 'empty body', body: '', status: 400, code: 'MALFORMED_JSON' },
  {
    name: 'a JSON array instead of an object',
    body: [valid],
    status: 400,
    code: 'VALIDATION_FAILED',
    fields: ['body'],
  },
  { name: 'JSON null', body: 'null', status: 400, code: 'VALIDATION_FAILED', fields: ['body'] },
  {
    name: 'text/plain content type',
    body: JSON.stringify(valid),
    headers: { 'Content-Type': 'text/plain' },
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'form content type',
    body: 'title=Mouse',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  { name: 'body over 64 KiB', body: { ...valid, description: big }, status: 413, code: 'PAYLOAD_TOO_LARGE' },
  {
    name: 'unknown field',
    body: { ...valid, colour: 'red' },
    status: 400,
    code: 'VALIDATION_FAILED',
    fields: ['colour'],
  },
  {
    name: 'two unknown fields',
    body: { ...valid, a: 1, b: 2 },
    status: 400,
    code: 'VALIDATION_FAILED',
    fields: ['a', 'b'],
  },
  {
    name: 'seller_id not a UUID',
    body: { ...valid, seller_id: 'seller-1' },
    status: 400,
    code: 'VALIDATION_FAILED',
    fields: ['seller_id'],
  },
  {
    name: 'title missing',
    body: { price: 1, stock: 1 },
    status: 400,
    code: 'VALIDATION_FAILED',
    fields: ['title'],
  },
  {
    name: 'title only spaces',
    body: { ...valid, title: '   ' },
    status: 400,
    code: 'VALIDATION_FAILED',
    fields: ['title'],
  },
  {
    name: 'title 201 characters',
    body: { ...valid, title: 't'.repeat(201) },
    status: 400,
    code: 'VALIDATION_FAILED',
    fields: ['title'],
  },
  {
    name: 'title a number',
    body: { ...valid, title: 42 },
    status: 400,
    code: 'VALIDATION_FAILED',
    fields: ['title'],
  },
  {
    name: 'price missing',
    body: { title: 'Mouse', stock: 1 },
    status: 400,
    code: 'VALIDATION_FAILED',
    fields: ['price'],
  },
  {
    name: 'price zero',
    body: { ...valid, price: 0 },
    status: 400,
    code: 'VALIDATION_FAILED',
    fields: ['price'],
  },
  {
    name: 'price negative',
    body: { ...valid, price: -1 },
    status: 400,
    code: 'VALIDATION_FAILED',
    fields: ['price'],
  },
  {
    name: 'price with 3 decimals',
    body: { ...valid, price: 1.999 },
    status: 400,
    code: 'VALIDATION_FAILED',
    fields: ['price'],
  },
  {
    name: 'price string with 3 decimals',
    body: { ...valid, price: '1.001' },
    status: 400,
    code: 'VALIDATION_FAILED',
    fields: ['price'],
  },
  {
    name: 'price at 10^10',
    body: { ...valid, price: 10_000_000_000 },
    status: 400,
    code: 'VALIDATION_FAILED',
    fields: ['price'],
  },
  {
    name: 'price in exponent notation',
    body: { ...valid, price: 1e-7 },
    status: 400,
    code: 'VALIDATION_FAILED',
    fields: ['price'],
  },
  {
    name: 'price not numeric text',
    body: { ...valid, price: 'ten' },
    status: 400,
    code: 'VALIDATION_FAILED',
    fields: ['price'],
  },
  {
    name: 'price a boolean',
    body: { ...valid, price: true },
    status: 400,
    code: 'VALIDATION_FAILED',
    fields: ['price'],
  },
  {
    name: 'currency lower-case',
    body: { ...valid, currency: 'usd' },
    status: 400,
    code: 'VALIDATION_FAILED',
    fields: ['currency'],
  },
  {
    name: 'currency not ISO 4217',
    body: { ...valid, currency: 'XYZ' },
    status: 400,
    code: 'VALIDATION_FAILED',
    fields: ['currency'],
  },
  {
    name: 'currency 4 letters',
    body: { ...valid, currency: 'EURO' },
    status: 400,
    code: 'VALIDATION_FAILED',
    fields: ['currency'],
  },
  {
    name: 'stock missing',
    body: { title: 'Mouse', price: 1 },
    status: 400,
    code: 'VALIDATION_FAILED',
    fields: ['stock'],
  },
  {
    name: 'stock negative',
    body: { ...valid, stock: -1 },
    status: 400,
    code: 'VALIDATION_FAILED',
    fields: ['stock'],
  },
  {
    name: 'stock fractional',
    body: { ...valid, stock: 1.5 },
    status: 400,
    code: 'VALIDATION_FAILED',
    fields: ['stock'],
  },
  {
    name: 'stock over 10^9',
    body: { ...valid, stock: 1_000_000_001 },
    status: 400,
    code: 'VALIDATION_FAILED',
    fields: ['stock'],
  },
  {
    name: 'stock as a string',
    body: { ...valid, stock: '5' },
    status: 400,
    code: 'VALIDATION_FAILED',
    fields: ['stock'],
  },
  {
    name: 'description too long',
    body: { ...valid, description: 'd'.repeat(5001) },
    status: 400,
    code: 'VALIDATION_FAILED',
    fields: ['description'],
  },
  {
    name: 'every field wrong at once',
    body: { seller_id: 1, title: '', price: -5, currency: 'x', stock: -1, extra: true },
    status: 400,
    code: 'VALIDATION_FAILED',
    fields: ['seller_id', 'title', 'price', 'currency', 'stock', 'extra'],
  },
  {
    name: 'Idempotency-Key with a space',
    body: valid,
    headers: { 'Idempotency-Key': 'a b' },
    status: 400,
    code: 'VALIDATION_FAILED',
    fields: ['Idempotency-Key'],
  },
  {
    name: 'PATCH with an empty object',
    method: 'PATCH',
    body: { version: 1 },
    status: 400,
    code: 'VALIDATION_FAILED',
    fields: ['body'],
  },
  {
    name: 'PATCH of currency (not changeable)',
    method: 'PATCH',
    body: { currency: 'EUR', version: 1 },
    status: 400,
    code: 'VALIDATION_FAILED',
    fields: ['currency', 'body'],
  },
  {
    name: 'PATCH with a bad If-Match',
    method: 'PATCH',
    body: { stock: 1 },
    headers: { 'If-Match': 'abc' },
    status: 400,
    code: 'VALIDATION_FAILED',
    fields: ['If-Match'],
  },
  {
    name: 'PATCH with If-Match and body version disagreeing',
    method: 'PATCH',
    body: { stock: 1, version: 2 },
    headers: { 'If-Match': '"1"' },
    status: 400,
    code: 'VALIDATION_FAILED',
    fields: ['version'],
  },
  {
    name: 'PATCH of a non-UUID id',
    method: 'PATCH',
    path: '/products/42',
    body: { stock: 1, version: 1 },
    status: 400,
    code: 'VALIDATION_FAILED',
    fields: ['id'],
  },
  {
    name: 'list with limit 0',
    method: 'GET',
    path: '/products?limit=0',
    status: 400,
    code: 'VALIDATION_FAILED',
    fields: ['limit'],
  },
  {
    name: 'list with an unknown parameter',
    method: 'GET',
    path: '/products?sort=price',
    status: 400,
    code: 'VALIDATION_FAILED',
    fields: ['sort'],
  },
  {
    name: 'list with a forged cursor',
    method: 'GET',
    path: '/products?cursor=abc',
    status: 400,
    code: 'VALIDATION_FAILED',
    fields: ['cursor'],
  },
];

describe('bad input is refused with problem+json and writes nothing', () => {
  let api: ApiUnderTest;
  let token: string;
  let productId: string;
  beforeAll(async () => {
    api = await startApi();
    token = await api.token(SELLER);
    const res = await api.request('/products', jsonInit('POST', valid, bearer(token)));
    productId = ((await res.json()) as { id: string }).id;
  });
  afterAll(() => api.close());

  it.each(cases)('$name → $status $code', async (c) => {
    const before = await rowCounts(api.sql);
    const method = c.method ?? 'POST';
    const path = c.path ?? (method === 'PATCH' ? `/products/${productId}` : '/products');
    const init: RequestInit =
      method === 'GET' ? { method } : { ...jsonInit(method, c.body, { ...bearer(token), ...c.headers }) };
    const res = await api.request(path, init);

    expect(res.status).toBe(c.status);
    expect(res.headers.get('Content-Type')).toBe('application/problem+json');
    const problem = (await res.json()) as {
      status: number;
      code: string;
      type: string;
      title: string;
      detail: string;
      errors?: { field: string }[];
    };
    expect(problem).toMatchObject({ status: c.status, code: c.code });
    expect(problem.type).toMatch(/^https:\/\/shopstream\.io\/problems\//);
    expect(problem.detail.length).toBeGreaterThan(0);
    if (c.fields) expect(new Set(problem.errors?.map((e) => e.field))).toEqual(new Set(c.fields));
    expect(await rowCounts(api.sql)).toEqual(before);
  });
});
