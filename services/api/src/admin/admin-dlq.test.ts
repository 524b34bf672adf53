import { Writable } from 'node:stream';
import { pino } from 'pino';
import { DlqAdminError } from '@shopstream/shared';
import type { DlqRecord } from '@shopstream/shared';
import { createApp } from '../app.js';
import type { ProductStore } from '../domain/ports.js';
import type { AdminDeps } from './admin-routes.js';
import type { DlqSource } from './dlq-source.js';

const TOKEN = 'admin-token-of-at-least-thirty-two-characters';

const record = (offset: string, overrides: Partial<DlqRecord> = {}): DlqRecord => ({
  partition: 0,
  offset,
  timestamp: '2026-12-01T10:00:00.000Z',
  key: 'product-1',
  keyEncoding: 'utf8',
  value: '{"id":"product-1"}',
  valueEncoding: 'utf8',
  headers: { ce_id: `event-${offset}`, dlq_error_code: 'UNKNOWN_EVENT_TYPE' },
  originalTopic: 'product.events',
  originalPartition: 2,
  originalOffset: '41',
  errorCode: 'UNKNOWN_EVENT_TYPE',
  errorMessage: '<script>alert(1)</script> no handler',
  ceType: 'product.renamed',
  ceId: `event-${offset}`,
  ...overrides,
});

/** The DLQ in memory with the real DlqAdmin's rules: partition 0 only, offsets 0 and 1. */
function fakeDlq() {
  const records = [record('0'), record('1', { originalTopic: null, errorCode: 'NO_CE_ID' })];
  const replayed: string[] = [];
  const find = (p: { partition: number; offset: string }): DlqRecord | undefined => {
    if (p.partition !== 0)
      throw new DlqAdminError(`the DLQ topic t.dlq has no partition ${p.partition}`, 'bad-input');
    return records.find((r) => r.offset === p.offset);
  };
  const dlq: DlqSource = {
    topic: 't.dlq',
    list: (filter) =>
      Promise.resolve({
        state: 'ok',
        list: {
          topic: 't.dlq',
          partitions: [{ partition: 0, low: '0', high: '2' }],
          records: records.filter((r) => !filter.code || r.errorCode === filter.code),
          more: false,
        },
      }),
    show: (p) => Promise.resolve(find(p)),
    replay: (p) => {
      const r = find(p);
      if (!r) return Promise.reject(new DlqAdminError(`no DLQ record at 0:${p.offset}`, 'not-found'));
      if (!r.originalTopic) {
        return Promise.resolve({
          record: r,
          report: {
            replayed: [],
            failed: [{ ...p, topic: null, reason: 'no dlq_original_topic header' }],
          },
        });
      }
      replayed.push(`${p.partition}:${p.offset}`);
      return Promise.resolve({
        record: r,
        report: { replayed: [{ ...p, topic: r.originalTopic }], failed: [] },
      });
    },
  };
  return { dlq, replayed };
}

const unreachableStore = new Proxy({} as ProductStore, {
  get: (_t, name) => () => Promise.reject(new Error(`store.${String(name)} must not be called`)),
});

function setup(withDlq = true) {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  });
  const logger = pino({ level: 'info' }, sink);
  const fake = fakeDlq();
  const outbox = new Proxy({} as AdminDeps['outbox'], {
    get: (_t, name) => () => Promise.reject(new Error(`outbox.${String(name)} must not be called`)),
  });
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
    admin: {
      adminToken: TOKEN,
      outbox,
      lag: { report: () => Promise.resolve({ state: 'unconfigured' }) },
      ...(withDlq ? { dlq: fake.dlq } : {}),
      logger,
    },
  });
  return { app, lines, replayed: fake.replayed };
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
  const cookie = res.headers.get('Set-Cookie')!.split(';')[0]!;
  const page = await (await app.request('/admin/dlq', { headers: { Cookie: cookie } })).text();
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page)![1]!;
  return { cookie, csrf };
}

describe('admin page: DLQ view', () => {
  it('lists the DLQ records with a Replay button for each that has an original topic, escaping what Kafka holds', async () => {
    const { app, replayed } = setup();
    const { cookie } = await login(app);
    const res = await app.request('/admin/dlq', { headers: { Cookie: cookie } });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('data-dlq-record="0:0"');
    expect(html).toContain('data-dlq-record="0:1"');
    expect(html).toContain('action="/admin/dlq/0/0/replay"');
    expect(html).not.toContain('action="/admin/dlq/0/1/replay"');
    expect(html).not.toContain('<script>alert(1)</script>');
    expect(html).toContain('2 record(s) stored in 1 partition(s)');
    const filtered = await (
      await app.request('/admin/dlq?code=NO_CE_ID', { headers: { Cookie: cookie } })
    ).text();
    expect(filtered).not.toContain('data-dlq-record="0:0"');
    expect(filtered).toContain('data-dlq-record="0:1"');
    expect(replayed).toEqual([]);
  });

  it('shows one record with its headers and value; 404 for no record there, 400 for a bad position or partition', async () => {
    const { app } = setup();
    const { cookie } = await login(app);
    const page = await app.request('/admin/dlq/0/0', { headers: { Cookie: cookie } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('DLQ record 0:0');
    expect(html).toContain('&quot;ce_id&quot;: &quot;event-0&quot;');
    expect(html).toContain('&quot;id&quot;: &quot;product-1&quot;');
    expect((await app.request('/admin/dlq/0/9', { headers: { Cookie: cookie } })).status).toBe(404);
    const bad = await app.request('/admin/dlq/x/-1', { headers: { Cookie: cookie } });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('is not a partition number');
    expect((await app.request('/admin/dlq/3/0', { headers: { Cookie: cookie } })).status).toBe(400);
    expect((await app.request('/admin/dlq?partition=abc', { headers: { Cookie: cookie } })).status).toBe(400);
  });

  it('replays only on a POST with the CSRF token, logs it, and never on a GET', async () => {
    const { app, lines, replayed } = setup();
    const { cookie, csrf } = await login(app);
    expect((await app.request('/admin/dlq/0/0/replay', { headers: { Cookie: cookie } })).status).toBe(405);
    expect((await app.request('/admin/dlq/0/0/replay', form({ _csrf: 'forged' }, cookie))).status).toBe(403);
    expect((await app.request('/admin/dlq/0/0/replay', form({}, cookie))).status).toBe(403);
    expect(replayed).toEqual([]);

    const res = await app.request('/admin/dlq/0/0/replay', form({ _csrf: csrf }, cookie));
    expect(res.status).toBe(303);
    expect(res.headers.get('Location')).toBe('/admin/dlq/0/0?replayed=product.events');
    expect(replayed).toEqual(['0:0']);
    expect(lines).toContainEqual(
      expect.objectContaining({
        action: 'dlq-replay',
        partition: 0,
        offset: '0',
        originalTopic: 'product.events',
        outcome: 'replayed',
        via: 'session',
      }),
    );
    const after = await (
      await app.request(res.headers.get('Location')!, { headers: { Cookie: cookie } })
    ).text();
    expect(after).toContain('Replayed to <code>product.events</code>');
  });

  it('refuses to replay a record without an original topic (409) or one that is not there (404), and logs both', async () => {
    const { app, lines } = setup();
    const { cookie, csrf } = await login(app);
    const noTopic = await app.request('/admin/dlq/0/1/replay', form({ _csrf: csrf }, cookie));
    expect(noTopic.status).toBe(409);
    expect(await noTopic.text()).toContain('no dlq_original_topic header');
    const missing = await app.request('/admin/dlq/0/9/replay', form({ _csrf: csrf }, cookie));
    expect(missing.status).toBe(404);
    expect(lines.filter((l) => l.action === 'dlq-replay').map((l) => l.outcome)).toEqual([
      'failed',
      'refused',
    ]);
  });

  it('says Kafka is not configured when the API has no DLQ source', async () => {
    const { app } = setup(false);
    const res = await app.request('/admin/dlq', { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('data-dlq-state="unconfigured"');
    const replay = await app.request('/admin/dlq/0/0/replay', {
      method: 'POST',
      headers: { Authorization: `Bearer ${TOKEN}` },
    });
    expect(replay.status).toBe(503);
  });
});
