import { pino } from 'pino';
import { createApp } from './app.js';
import type { ProductStore } from './domain/ports.js';

// The app with ports that must never be reached: these routes answer before touching the store.
const unreachableStore = new Proxy({} as ProductStore, {
  get: (_t, name) => () => Promise.reject(new Error(`store.${String(name)} must not be called`)),
});

// A store whose database is down: every call fails as node-postgres does when nothing listens.
const downStore = new Proxy({} as ProductStore, {
  get: () => () =>
    Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })),
});

const app = (pingDatabase: () => Promise<void>, store: ProductStore = unreachableStore) =>
  createApp({
    logger: pino({ level: 'silent' }),
    products: {
      store,
      clock: { now: () => new Date() },
      shardCount: 64,
      topic: 'product.events',
      relays: { eventsCommitted: () => undefined },
    },
    search: { search: () => Promise.resolve([]), freshnessSeconds: () => Promise.resolve(null) },
    auth: { jwtSecret: 'unit-test-secret-of-at-least-32-characters' },
    pingDatabase,
  });

describe('createApp', () => {
  it('answers /readyz with 503 problem+json while the database is unreachable, and /healthz with 200', async () => {
    const down = app(() => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432')));
    const ready = await down.request('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.headers.get('Content-Type')).toBe('application/problem+json');
    expect(await ready.json()).toMatchObject({ status: 503, code: 'DEPENDENCY_UNAVAILABLE' });
    expect((await down.request('/healthz')).status).toBe(200);
  });

  it('answers a request whose database is down with 503 problem+json and Retry-After, not 500', async () => {
    const down = app(() => Promise.resolve(), downStore);
    const res = await down.request('/products/0192d5f0-0000-7000-8000-000000000001');
    expect(res.status).toBe(503);
    expect(res.headers.get('Content-Type')).toBe('application/problem+json');
    expect(Number(res.headers.get('Retry-After'))).toBeGreaterThan(0);
    expect(await res.json()).toMatchObject({ status: 503, code: 'DEPENDENCY_UNAVAILABLE' });
  });

  it('answers /readyz with 200 when the database answers', async () => {
    expect((await app(() => Promise.resolve()).request('/readyz')).status).toBe(200);
  });

  it('answers unknown routes with a 404 problem', async () => {
    const res = await app(() => Promise.resolve()).request('/nope');
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: 'NOT_FOUND', detail: 'no route for GET /nope' });
  });

  it('checks the token before reading the body: a bad body without a token is 401, not 400', async () => {
    const res = await app(() => Promise.resolve()).request('/products', { method: 'POST', body: '{oops' });
    expect(res.status).toBe(401);
  });
});
