import { Writable } from 'node:stream';
import { pino } from 'pino';
import { OutboxAdminError } from '@shopstream/shared';
import type { OutboxOverview, OutboxRowSummary, OutboxStatus } from '@shopstream/shared';
import { createApp } from '../app.js';
import type { ProductStore } from '../domain/ports.js';
import type { AdminDeps } from './admin-routes.js';
import type { LagReport } from './lag-source.js';

const TOKEN = 'admin-token-of-at-least-thirty-two-characters';
const DEAD_ID = '0196f3a0-0000-7000-8000-0000000000d1';
const PUBLISHED_ID = '0196f3a0-0000-7000-8000-0000000000b2';
const PRODUCT = '0196f3a0-0000-7000-8000-00000000aaaa';

type Row = OutboxRowSummary & { payload: unknown; headers: unknown };
const row = (id: string, seq: string, status: OutboxStatus, lastError: string | null = null): Row => ({
  id,
  seq,
  status,
  eventType: 'product.updated',
  aggregateId: PRODUCT,
  aggregateVersion: Number(seq),
  shard: 7,
  attempts: status === 'DEAD' ? 10 : 1,
  lastError,
  createdAt: '2026-11-29T10:00:00.000Z',
  publishedAt: status === 'PUBLISHED' ? '2026-11-29T10:00:01.000Z' : null,
  payload: { id: PRODUCT, title: 'Lamp' },
  headers: { ce_id: id },
});

/** The outbox in memory, with the real OutboxAdmin's rules: only DEAD rows can be requeued or skipped. */
function fakeOutbox() {
  const rows: Row[] = [
    row(PUBLISHED_ID, '1', 'PUBLISHED'),
    row(DEAD_ID, '2', 'DEAD', '<script>alert(1)</script> broker refused'),
  ];
  const calls: string[] = [];
  const mustBeDead = (id: string): Row => {
    const r = rows.find((x) => x.id === id);
    if (!r) throw new OutboxAdminError(`no outbox event ${id}`);
    if (r.status !== 'DEAD') throw new OutboxAdminError(`outbox event ${id} is ${r.status}, not DEAD`);
    return r;
  };
  const outbox: AdminDeps['outbox'] = {
    list: (f) => {
      calls.push('list');
      return Promise.resolve(
        rows.filter(
          (r) =>
            (!f.status || r.status === f.status) &&
            (!f.aggregateId || r.aggregateId === f.aggregateId) &&
            (!f.afterSeq || Number(r.seq) > Number(f.afterSeq)),
        ),
      );
    },
    show: (id) => Promise.resolve(rows.find((r) => r.id === id)),
    overview: () => {
      const counts = { PENDING: 0, PUBLISHED: 0, DEAD: 0, SKIPPED: 0 };
      for (const r of rows) counts[r.status]++;
      const overview: OutboxOverview = {
        counts,
        oldestPendingAgeSeconds: null,
        liveRelays: [{ owner: 'relay-1', leaseUntil: '2026-11-29T10:00:10.000Z' }],
      };
      return Promise.resolve(overview);
    },
    requeue: (target) => {
      calls.push('requeue');
      if (!('id' in target)) throw new Error('the page never requeues all');
      mustBeDead(target.id).status = 'PENDING';
      return Promise.resolve([target.id]);
    },
    skip: (id) => {
      calls.push('skip');
      mustBeDead(id).status = 'SKIPPED';
      return Promise.resolve();
    },
  };
  return { rows, calls, outbox, status: (id: string) => rows.find((r) => r.id === id)?.status };
}

const unreachableStore = new Proxy({} as ProductStore, {
  get: (_t, name) => () => Promise.reject(new Error(`store.${String(name)} must not be called`)),
});

function setup(lag: LagReport = { state: 'unconfigured' }, withAdmin = true) {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  });
  const logger = pino({ level: 'info' }, sink);
  const fake = fakeOutbox();
  const app = createApp({
    logger,
    products: {
      store: unreachableStore,
      clock: { now: () => new Date() },
      shardCount: 64,
      topic: 't',
      relays: { eventsCommitted: () => undefined },
    },
    search: { search: () => Promise.resolve([]), freshnessSeconds: () => Promise.resolve(null) },
    auth: { jwtSecret: 'unit-test-secret-of-at-least-32-characters' },
    pingDatabase: () => Promise.resolve(),
    ...(withAdmin
      ? {
          admin: {
            adminToken: TOKEN,
            outbox: fake.outbox,
            lag: { report: () => Promise.resolve(lag) },
            logger,
          },
        }
      : {}),
  });
  return { app, fake, lines };
}

const form = (fields: Record<string, string>, cookie?: string): RequestInit => ({
  method: 'POST',
  headers: {
    'Content-Type': 'application/x-www-form-urlencoded',
    ...(cookie ? { Cookie: cookie } : {}),
  },
  body: new URLSearchParams(fields).toString(),
});

async function login(app: ReturnType<typeof setup>['app']): Promise<{ cookie: string; csrf: string }> {
  const res = await app.request('/admin/login', form({ token: TOKEN }));
  expect(res.status).toBe(303);
  const cookie = res.headers.get('Set-Cookie')!.split(';')[0]!;
  const page = await (await app.request('/admin/dead', { headers: { Cookie: cookie } })).text();
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page)![1]!;
  return { cookie, csrf };
}

describe('admin page', () => {
  it('answers every /admin URL with 404 ADMIN_DISABLED problem+json when no admin token is configured', async () => {
    const { app } = setup(undefined, false);
    for (const path of ['/admin', '/admin/dead', '/admin/login']) {
      const res = await app.request(path);
      expect(res.status).toBe(404);
      expect(res.headers.get('Content-Type')).toBe('application/problem+json');
      expect(await res.json()).toMatchObject({ code: 'ADMIN_DISABLED' });
    }
  });

  it('shows the login page with 401 to a request without a session, and to a wrong Bearer token', async () => {
    const { app } = setup();
    for (const init of [{}, { headers: { Authorization: 'Bearer not-the-token' } }]) {
      const res = await app.request('/admin', init);
      expect(res.status).toBe(401);
      expect(res.headers.get('Content-Type')).toMatch(/^text\/html/);
      const body = await res.text();
      expect(body).toContain('name="token"');
      expect(body).not.toContain('Pipeline overview');
    }
  });

  it('refuses a wrong token at the login form without setting a cookie, and logs the refusal', async () => {
    const { app, lines } = setup();
    const res = await app.request('/admin/login', form({ token: `${TOKEN}-wrong` }));
    expect(res.status).toBe(401);
    expect(res.headers.get('Set-Cookie')).toBeNull();
    expect(await res.text()).toContain('That is not the admin token.');
    expect(lines).toContainEqual(expect.objectContaining({ action: 'login', outcome: 'refused' }));
  });

  it('logs in with the token into an HttpOnly, SameSite=Strict session cookie that does not hold the token', async () => {
    const { app } = setup();
    const res = await app.request('/admin/login', form({ token: TOKEN }));
    expect(res.status).toBe(303);
    expect(res.headers.get('Location')).toBe('/admin');
    const setCookie = res.headers.get('Set-Cookie')!;
    expect(setCookie).toMatch(/^shopstream_admin=/);
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Strict');
    expect(setCookie).toContain('Path=/admin');
    expect(setCookie).not.toContain(TOKEN);
    const overview = await app.request('/admin', { headers: { Cookie: setCookie.split(';')[0]! } });
    expect(overview.status).toBe(200);
    const html = await overview.text();
    expect(html).toContain('Pipeline overview');
    expect(html).toContain('1 relay(s) alive');
    expect(html).toContain('Kafka is not configured');
    expect(overview.headers.get('Content-Security-Policy')).toContain("default-src 'none'");
  });

  it('refuses a forged session cookie', async () => {
    const { app } = setup();
    const res = await app.request('/admin', {
      headers: { Cookie: `shopstream_admin=1.aaaaaaaaaaaaaaaaaaaa.bbbb` },
    });
    expect(res.status).toBe(401);
  });

  it('accepts the token as a Bearer header, for scripts', async () => {
    const { app, fake } = setup();
    const res = await app.request('/admin/dead', { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain(`data-event-id="${DEAD_ID}"`);
    const action = await app.request(`/admin/outbox/${DEAD_ID}/requeue`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${TOKEN}` },
    });
    expect(action.status).toBe(303);
    expect(fake.status(DEAD_ID)).toBe('PENDING');
  });

  it('escapes what the outbox holds: an error message cannot inject markup', async () => {
    const { app } = setup();
    const html = await (
      await app.request('/admin/dead', { headers: { Authorization: `Bearer ${TOKEN}` } })
    ).text();
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; broker refused');
    expect(html).not.toContain('<script>');
  });

  it('answers a GET on an action URL with 405 and changes nothing', async () => {
    const { app, fake } = setup();
    const { cookie } = await login(app);
    for (const action of ['requeue', 'skip']) {
      const res = await app.request(`/admin/outbox/${DEAD_ID}/${action}`, { headers: { Cookie: cookie } });
      expect(res.status).toBe(405);
    }
    expect(fake.status(DEAD_ID)).toBe('DEAD');
    expect(fake.calls.filter((c) => c !== 'list')).toEqual([]);
  });

  it('refuses an action without the session CSRF token, and changes nothing', async () => {
    const { app, fake } = setup();
    const { cookie } = await login(app);
    const other = await login(app);
    const variants: Record<string, string>[] = [{}, { _csrf: other.csrf }];
    for (const fields of variants) {
      const res = await app.request(`/admin/outbox/${DEAD_ID}/requeue`, form(fields, cookie));
      expect(res.status).toBe(403);
    }
    expect(fake.status(DEAD_ID)).toBe('DEAD');
  });

  it('requeues a DEAD row with the session CSRF token, logs the action and shows the event', async () => {
    const { app, fake, lines } = setup();
    const { cookie, csrf } = await login(app);
    const res = await app.request(`/admin/outbox/${DEAD_ID}/requeue`, form({ _csrf: csrf }, cookie));
    expect(res.status).toBe(303);
    expect(res.headers.get('Location')).toBe(`/admin/outbox/${DEAD_ID}?done=requeue`);
    expect(fake.status(DEAD_ID)).toBe('PENDING');
    expect(lines).toContainEqual(
      expect.objectContaining({
        msg: 'admin action',
        action: 'requeue',
        eventId: DEAD_ID,
        outcome: 'requeued',
      }),
    );
    const page = await (
      await app.request(res.headers.get('Location')!, { headers: { Cookie: cookie } })
    ).text();
    expect(page).toContain('Requeued');
    expect(page).toContain('status-PENDING');
  });

  it('skips a DEAD row, and refuses (409) to act on a row that is not DEAD', async () => {
    const { app, fake, lines } = setup();
    const { cookie, csrf } = await login(app);
    expect((await app.request(`/admin/outbox/${DEAD_ID}/skip`, form({ _csrf: csrf }, cookie))).status).toBe(
      303,
    );
    expect(fake.status(DEAD_ID)).toBe('SKIPPED');
    const res = await app.request(`/admin/outbox/${PUBLISHED_ID}/requeue`, form({ _csrf: csrf }, cookie));
    expect(res.status).toBe(409);
    expect(await res.text()).toContain('is PUBLISHED, not DEAD');
    expect(fake.status(PUBLISHED_ID)).toBe('PUBLISHED');
    expect(lines).toContainEqual(
      expect.objectContaining({ action: 'requeue', eventId: PUBLISHED_ID, outcome: 'refused' }),
    );
  });

  it('answers bad input with a 400 page naming it, and changes nothing', async () => {
    const { app, fake } = setup();
    const { cookie, csrf } = await login(app);
    const cases: [string, RequestInit, string][] = [
      [
        '/admin/outbox/not-a-uuid',
        { headers: { Cookie: cookie } },
        'event id &quot;not-a-uuid&quot; is not a UUID',
      ],
      ['/admin/outbox?status=LOST', { headers: { Cookie: cookie } }, 'status &quot;LOST&quot; is unknown'],
      ['/admin/outbox?product=42', { headers: { Cookie: cookie } }, 'product &quot;42&quot; is not a UUID'],
      ['/admin/outbox/not-a-uuid/requeue', form({ _csrf: csrf }, cookie), 'is not a UUID'],
    ];
    for (const [path, init, message] of cases) {
      const res = await app.request(path, init);
      expect(res.status).toBe(400);
      expect(res.headers.get('Content-Type')).toMatch(/^text\/html/);
      const body = await res.text();
      expect(body).toContain(message);
      expect(body).toContain('Nothing was changed');
    }
    expect(fake.calls.filter((c) => c !== 'list')).toEqual([]);
    expect(fake.status(DEAD_ID)).toBe('DEAD');
  });

  it('filters the outbox browser by status and product', async () => {
    const { app } = setup();
    const auth = { headers: { Authorization: `Bearer ${TOKEN}` } };
    const dead = await (await app.request('/admin/outbox?status=dead', auth)).text();
    expect(dead).toContain(`data-event-id="${DEAD_ID}"`);
    expect(dead).not.toContain(`data-event-id="${PUBLISHED_ID}"`);
    const other = await (await app.request(`/admin/outbox?product=${DEAD_ID}`, auth)).text();
    expect(other).toContain('No events match.');
  });

  it('shows the lag per partition, or why it cannot', async () => {
    const ok = setup({
      state: 'ok',
      groupId: 'product-consumer',
      topic: 'product.events',
      partitions: [
        {
          topic: 'product.events',
          partition: 0,
          committedOffset: '5',
          logStartOffset: '0',
          logEndOffset: '8',
          lag: 3,
        },
        {
          topic: 'product.events',
          partition: 1,
          committedOffset: null,
          logStartOffset: '0',
          logEndOffset: '4',
          lag: 4,
        },
      ],
    });
    const auth = { headers: { Authorization: `Bearer ${TOKEN}` } };
    const html = await (await ok.app.request('/admin/lag', auth)).text();
    expect(html).toMatch(/data-partition="0">[\s\S]*?<td class="num">5<\/td>[\s\S]*?<td class="num">3<\/td>/);
    expect(html).toContain('<b data-testid="lag-total">7</b>');
    const failing = setup({
      state: 'error',
      groupId: 'g',
      topic: 't',
      message: 'This server does not host this topic-partition',
    });
    expect(await (await failing.app.request('/admin/lag', auth)).text()).toContain(
      'This server does not host this topic-partition',
    );
  });
});
