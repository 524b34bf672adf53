import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sign } from 'hono/jwt';
import { SELLER, bearer, jsonInit, rowCounts, startApi } from './api-under-test.js';
import type { ApiUnderTest } from './api-under-test.js';

const ISSUER = 'https://login.example.test';
const AUDIENCE = 'shopstream-api';
const REFRESH_INTERVAL_MS = 30_000;

interface SigningKey {
  kid: string;
  privateJwk: Record<string, unknown>;
  publicJwk: Record<string, unknown>;
}

function rsaKey(kid: string): SigningKey {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    kid,
    privateJwk: { ...privateKey.export({ format: 'jwk' }), alg: 'RS256', kid },
    publicJwk: { ...publicKey.export({ format: 'jwk' }), alg: 'RS256', kid, use: 'sig' },
  };
}

/** A tiny identity provider: serves its current key set and counts the fetches. */
class JwksServer {
  fetches = 0;
  keys: SigningKey[] = [];
  failing = false;
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((_req, res) => {
      this.fetches += 1;
      if (this.failing) {
        res.writeHead(500).end('down');
        return;
      }
      res
        .writeHead(200, { 'Content-Type': 'application/json' })
        .end(JSON.stringify({ keys: this.keys.map((k) => k.publicJwk) }));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/.well-known/jwks.json`;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s) await new Promise((resolve) => s.close(resolve));
  }
}

const token = (key: SigningKey, claims: Record<string, unknown> = {}): Promise<string> =>
  sign(
    { sub: SELLER, iss: ISSUER, aud: AUDIENCE, exp: Math.floor(Date.now() / 1000) + 600, ...claims },
    key.privateJwk as Parameters<typeof sign>[1],
  );

const product = { title: 'Kettle', price: 20, stock: 2 };

describe('JWKS mode: issuer and audience checked, every token expires, keys cached with a rate-limited refresh, provider down is 503', () => {
  const provider = new JwksServer();
  const first = rsaKey('key-1');
  const rotated = rsaKey('key-2');
  let clock = 0;
  let api: ApiUnderTest;
  beforeAll(async () => {
    await provider.start();
    provider.keys = [first];
    api = await startApi({
      auth: {
        jwksUrl: provider.url,
        issuer: ISSUER,
        audience: AUDIENCE,
        jwksMinRefreshIntervalMs: REFRESH_INTERVAL_MS,
        jwksMaxAgeMs: 10 * REFRESH_INTERVAL_MS,
        now: () => clock,
      },
    });
  });
  afterAll(async () => {
    await api.close();
    await provider.stop();
  });

  const post = async (t: string): Promise<Response> =>
    api.request('/products', jsonInit('POST', product, bearer(t)));

  it('accepts a token from the configured issuer for the configured audience, fetching the keys once', async () => {
    expect((await post(await token(first))).status).toBe(201);
    expect((await post(await token(first))).status).toBe(201);
    expect(provider.fetches).toBe(1);
  });

  it.each([
    ['another issuer', { iss: 'https://evil.example.test' }, /issuer/i],
    ['another audience', { aud: 'someone-else' }, /aud/i],
    ['no exp', { exp: undefined }, /no exp/],
  ])('refuses a token with %s (401), writing nothing', async (_name, claims, detail) => {
    const before = await rowCounts(api.sql);
    const res = await post(await token(first, claims));
    expect(res.status).toBe(401);
    expect(res.headers.get('Content-Type')).toBe('application/problem+json');
    expect(res.headers.get('WWW-Authenticate')).toMatch(/^Bearer /);
    expect(((await res.json()) as { detail: string }).detail).toMatch(detail);
    expect(await rowCounts(api.sql)).toEqual(before);
  });

  it('refreshes the key set for an unknown kid at most once per interval, and picks up a rotated key', async () => {
    const fetchesBefore = provider.fetches;
    const unknown = await token(rotated);
    // Within the interval of the last fetch: no fetch at all, however many unknown kids arrive.
    for (let i = 0; i < 5; i += 1) expect((await post(unknown)).status).toBe(401);
    expect(provider.fetches).toBe(fetchesBefore);

    // A new interval: a burst of unknown kids, concurrent and sequential, costs exactly one fetch.
    clock += REFRESH_INTERVAL_MS;
    const burst = await Promise.all(Array.from({ length: 10 }, () => post(unknown)));
    for (let i = 0; i < 5; i += 1) burst.push(await post(unknown));
    expect(burst.map((r) => r.status)).toEqual(Array(15).fill(401));
    expect(provider.fetches).toBe(fetchesBefore + 1);

    // The provider rotates its key: still rate-limited now, picked up once the interval has passed.
    provider.keys = [first, rotated];
    expect((await post(unknown)).status).toBe(401);
    expect(provider.fetches).toBe(fetchesBefore + 1);
    clock += REFRESH_INTERVAL_MS;
    expect((await post(unknown)).status).toBe(201);
    expect(provider.fetches).toBe(fetchesBefore + 2);
  });

  it('keeps verifying with cached keys while the provider is down', async () => {
    provider.failing = true;
    try {
      const fetchesBefore = provider.fetches;
      clock += 20 * REFRESH_INTERVAL_MS; // past the keys' max age: a refresh is tried and fails
      expect((await post(await token(first))).status).toBe(201);
      expect(provider.fetches).toBe(fetchesBefore + 1);
    } finally {
      provider.failing = false;
    }
  });
});

describe('JWKS provider unreachable: 503 problem+json with Retry-After, not 401', () => {
  let api: ApiUnderTest;
  const provider = new JwksServer();
  beforeAll(async () => {
    await provider.start();
    provider.keys = [rsaKey('key-1')];
    api = await startApi({
      auth: { jwksUrl: provider.url, issuer: ISSUER, audience: AUDIENCE, jwksFetchTimeoutMs: 2_000 },
    });
  });
  afterAll(async () => {
    await api.close();
    await provider.stop();
  });

  const expectUnavailable = async (res: Response): Promise<void> => {
    expect(res.status).toBe(503);
    expect(res.headers.get('Content-Type')).toBe('application/problem+json');
    expect(Number(res.headers.get('Retry-After'))).toBeGreaterThan(0);
    expect(await res.json()).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE' });
  };

  it('answers 503 while the provider answers 500, and again (without fetching) within the refresh interval', async () => {
    const before = await rowCounts(api.sql);
    provider.failing = true;
    const t = await token(provider.keys[0]!);
    await expectUnavailable(await api.request('/products', jsonInit('POST', product, bearer(t))));
    await expectUnavailable(await api.request('/products', jsonInit('POST', product, bearer(t))));
    expect(provider.fetches).toBe(1);
    expect(await rowCounts(api.sql)).toEqual(before);
  });

  it('answers 503 when nothing listens at the JWKS URL', async () => {
    const key = rsaKey('key-9');
    const gone = new JwksServer();
    await gone.start();
    await gone.stop(); // the port is closed now: connection refused
    const other = await startApi({ auth: { jwksUrl: gone.url, issuer: ISSUER, audience: AUDIENCE } });
    try {
      await expectUnavailable(
        await other.request('/products', jsonInit('POST', product, bearer(await token(key)))),
      );
    } finally {
      await other.close();
    }
  });
});
