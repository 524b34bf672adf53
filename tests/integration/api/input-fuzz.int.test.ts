import { SELLER, rowCounts, startApi } from './api-under-test.js';
import type { ApiUnderTest } from './api-under-test.js';
import { rawRequest } from './raw-http.js';
import type { RawRequest, RawResponse } from './raw-http.js';

/**
 * Every string input of the API with the values that used to reach PostgreSQL and come back as 500
 * — U+0000, a lone high surrogate, a lone low surrogate — and a 10k-character string, sent over
 * real HTTP the way each kind of input can carry them:
 * - JSON bodies carry them as \u escapes ("\u0000", "\ud800"), written into the raw JSON text;
 * - URLs carry them percent-encoded: %00, and the bytes a lone surrogate would have in UTF-8
 *   (%ED%A0%80, %ED%B0%80), which are not UTF-8;
 * - headers carry bytes: a raw 0x00, and the same surrogate bytes ED A0 80 / ED B0 80.
 */
type Value = 'U+0000' | 'a lone high surrogate' | 'a lone low surrogate' | '10k characters';
const VALUES: Value[] = ['U+0000', 'a lone high surrogate', 'a lone low surrogate', '10k characters'];

const jsonText: Record<Value, string> = {
  'U+0000': '"lamp\\u0000shade"',
  'a lone high surrogate': '"lamp\\ud800shade"',
  'a lone low surrogate': '"lamp\\udc00shade"',
  '10k characters': JSON.stringify('x'.repeat(10_000)),
};
const urlText: Record<Value, string> = {
  'U+0000': 'lamp%00shade',
  'a lone high surrogate': 'lamp%ED%A0%80shade',
  'a lone low surrogate': 'lamp%ED%B0%80shade',
  '10k characters': 'x'.repeat(10_000),
};
const headerBytes: Record<Value, (prefix: string) => Buffer> = {
  'U+0000': (p) => Buffer.concat([Buffer.from(`${p}key`), Buffer.from([0x00]), Buffer.from('1')]),
  'a lone high surrogate': (p) => Buffer.concat([Buffer.from(`${p}key`), Buffer.from([0xed, 0xa0, 0x80])]),
  'a lone low surrogate': (p) => Buffer.concat([Buffer.from(`${p}key`), Buffer.from([0xed, 0xb0, 0x80])]),
  '10k characters': (p) => Buffer.from(`${p}${'k'.repeat(10_000)}`),
};

interface Case {
  input: string;
  field: string;
  value: Value;
  request: (ctx: { token: string; productId: string }) => RawRequest;
  /** 400 naming the field unless said otherwise. */
  status?: number;
}

const json = (token: string): [string, string][] => [
  ['Content-Type', 'application/json'],
  ['Authorization', `Bearer ${token}`],
];
const createBody = (field: string, text: string): string =>
  `{${[
    ['title', '"Lamp"'],
    ['price', '12.5'],
    ['stock', '3'],
    ['description', '"A lamp"'],
    ['currency', '"EUR"'],
  ]
    .map(([k, v]) => `"${k}":${k === field ? text : v}`)
    .join(',')}}`;

const cases: Case[] = VALUES.flatMap((value): Case[] => [
  // JSON body fields
  ...['title', 'description', 'currency'].map((field): Case => ({
    input: `POST /products body`,
    field,
    value,
    request: ({ token }) => ({
      method: 'POST',
      target: '/products',
      headers: json(token),
      body: createBody(field, jsonText[value]),
    }),
  })),
  ...['title', 'description'].map((field): Case => ({
    input: `PATCH /products/:id body`,
    field,
    value,
    request: ({ token, productId }) => ({
      method: 'PATCH',
      target: `/products/${productId}`,
      headers: [...json(token), ['If-Match', '"1"']],
      body: `{"${field}":${jsonText[value]}}`,
    }),
  })),
  // query parameters
  ...['q', 'seller_id', 'limit'].map((field): Case => ({
    input: 'GET /products/search query',
    field,
    value,
    request: () => ({
      method: 'GET',
      target: `/products/search?${field === 'q' ? '' : 'q=lamp&'}${field}=${urlText[value]}`,
    }),
  })),
  ...['cursor', 'seller_id', 'limit'].map((field): Case => ({
    input: 'GET /products query',
    field,
    value,
    request: () => ({ method: 'GET', target: `/products?${field}=${urlText[value]}` }),
  })),
  // the path id
  ...(['GET', 'PATCH', 'DELETE'] as const).map((method): Case => ({
    input: `${method} /products/:id path`,
    field: 'id',
    value,
    request: ({ token }) => ({
      method,
      target: `/products/${urlText[value]}`,
      headers: [...json(token), ['If-Match', '"1"']],
      ...(method === 'PATCH' ? { body: '{"stock":1}' } : {}),
    }),
  })),
  // headers
  {
    input: 'POST /products header',
    field: 'Idempotency-Key',
    value,
    request: ({ token }) => ({
      method: 'POST',
      target: '/products',
      headers: [...json(token), ['Idempotency-Key', headerBytes[value]('')]],
      body: createBody('', ''),
    }),
  },
  {
    input: 'PATCH /products/:id header',
    field: 'If-Match',
    value,
    request: ({ token, productId }) => ({
      method: 'PATCH',
      target: `/products/${productId}`,
      headers: [...json(token), ['If-Match', headerBytes[value]('"1"')]],
      body: '{"stock":1}',
    }),
  },
  {
    input: 'POST /products header',
    field: 'Authorization',
    value,
    // A 10k-character token is simply not a valid token: 401.
    ...(value === '10k characters' ? { status: 401 } : {}),
    request: () => ({
      method: 'POST',
      target: '/products',
      headers: [
        ['Content-Type', 'application/json'],
        ['Authorization', headerBytes[value]('Bearer ')],
      ],
      body: createBody('', ''),
    }),
  },
]);

describe('every string input refuses U+0000, lone surrogates and 10k characters with 4xx problem+json naming the field, writing nothing', () => {
  let api: ApiUnderTest;
  let base: string;
  let token: string;
  let productId: string;
  beforeAll(async () => {
    api = await startApi({ listen: true });
    base = api.baseUrl!;
    token = await api.token(SELLER);
    const created = await rawRequest(base, {
      method: 'POST',
      target: '/products',
      headers: json(token),
      body: createBody('', ''),
    });
    expect(created.status).toBe(201);
    productId = (JSON.parse(created.body) as { id: string }).id;
  });
  afterAll(() => api.close());

  function expectProblem(res: RawResponse, status: number): { code: string; errors?: { field: string }[] } {
    expect({ status: res.status, type: res.headers['content-type'] }).toEqual({
      status,
      type: 'application/problem+json',
    });
    return JSON.parse(res.body) as { code: string; errors?: { field: string }[] };
  }

  it.each(cases.map((c) => [`${c.input} ${c.field} with ${c.value}`, c] as const))('%s', async (_name, c) => {
    const before = await rowCounts(api.sql);
    const res = await rawRequest(base, c.request({ token, productId }));
    const problem = expectProblem(res, c.status ?? 400);
    if ((c.status ?? 400) === 400) {
      expect(problem.code).toBe('VALIDATION_FAILED');
      expect(problem.errors?.map((e) => e.field)).toContain(c.field);
    }
    expect(await rowCounts(api.sql)).toEqual(before);
  });

  it('refuses a body whose bytes are not UTF-8 (a surrogate written as raw bytes) as malformed, writing nothing', async () => {
    const before = await rowCounts(api.sql);
    const body = Buffer.concat([
      Buffer.from('{"title":"lamp'),
      Buffer.from([0xed, 0xa0, 0x80]),
      Buffer.from('","price":5,"stock":1}'),
    ]);
    const res = await rawRequest(base, { method: 'POST', target: '/products', headers: json(token), body });
    expect(expectProblem(res, 400).code).toBe('MALFORMED_JSON');
    expect(await rowCounts(api.sql)).toEqual(before);
  });

  it('refuses a raw U+0000 byte in the query string, naming the parameter', async () => {
    const target = Buffer.concat([Buffer.from('/products/search?q=lamp'), Buffer.from([0x00])]);
    const problem = expectProblem(await rawRequest(base, { method: 'GET', target }), 400);
    expect(problem.errors?.map((e) => e.field)).toEqual(['q']);
  });

  it('still accepts the same fields with ordinary text, an emoji (a surrogate pair) and accents', async () => {
    const before = await rowCounts(api.sql);
    const res = await rawRequest(base, {
      method: 'POST',
      target: '/products',
      headers: [...json(token), ['Idempotency-Key', 'fuzz-ok-1']],
      body: createBody('title', '"Lampe \\ud83d\\udca1 à pied"'),
    });
    expect(res.status).toBe(201);
    expect((JSON.parse(res.body) as { title: string }).title).toBe('Lampe 💡 à pied');
    const search = await rawRequest(base, {
      method: 'GET',
      target: '/products/search?q=lampe%20%F0%9F%92%A1',
    });
    expect(search.status).toBe(200);
    expect(await rowCounts(api.sql)).toEqual({
      products: before.products + 1,
      events: before.events + 1,
      keys: before.keys + 1,
    });
  });
});
