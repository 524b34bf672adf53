import { waitFor } from '../harness/index.js';
import { startStack } from './stack.js';
import type { Stack } from './stack.js';

const SELLER = '3fa85f64-5717-4562-b3fc-2c963f66afa6';

describe('API → outbox → relay → Kafka → consumer → search', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.stop());

  it('makes a created product searchable, follows its update, and drops it when deleted', async () => {
    const auth = { Authorization: `Bearer ${await stack.token(SELLER)}`, 'Content-Type': 'application/json' };
    const created = await fetch(`${stack.apiUrl}/products`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({
        title: 'Ergonomic Wireless Mouse',
        description: 'quiet clicks',
        price: 15.99,
        stock: 100,
      }),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };

    const search = async (q: string) => {
      const res = await fetch(
        `${stack.apiUrl}/products/search?q=${encodeURIComponent(q)}&seller_id=${SELLER}`,
      );
      expect(res.status).toBe(200);
      expect(res.headers.get('Read-Model-Age-Seconds')).toMatch(/^(\d+\.\d{3}|unknown)$/);
      return (
        (await res.json()) as { items: { id: string; title: string; price: string; version: number }[] }
      ).items;
    };
    const found = await waitFor(async () => (await search('wireless mouses')).find((p) => p.id === id), {
      description: 'the product in search results',
      timeoutMs: 30_000,
    });
    expect(found).toMatchObject({ title: 'Ergonomic Wireless Mouse', price: '15.99', version: 1 });

    const patched = await fetch(`${stack.apiUrl}/products/${id}`, {
      method: 'PATCH',
      headers: { ...auth, 'If-Match': '"1"' },
      body: JSON.stringify({ title: 'Ergonomic Silent Mouse', price: '12.00' }),
    });
    expect(patched.status).toBe(200);
    await waitFor(
      async () => (await search('silent')).find((p) => p.id === id && p.version === 2 && p.price === '12.00'),
      {
        description: 'the update in search results',
        timeoutMs: 30_000,
      },
    );

    expect((await fetch(`${stack.apiUrl}/products/${id}`, { method: 'DELETE', headers: auth })).status).toBe(
      204,
    );
    await waitFor(async () => (await search('silent')).every((p) => p.id !== id), {
      description: 'the deleted product gone from search',
      timeoutMs: 30_000,
    });
  });
});
