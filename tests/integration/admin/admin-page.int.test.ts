import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { buildProductEvent, newId } from '@shopstream/shared';
import {
  freePort,
  insertEvents,
  productSnapshot,
  randomGroup,
  readTopic,
  repoRoot,
  seedOutbox,
  startService,
  waitFor,
} from '../../harness/index.js';
import type { ServiceProcess } from '../../harness/index.js';
import { relayFixture } from '../relay/relay-fixture.js';
import type { RelayFixture } from '../relay/relay-fixture.js';

// Installed by `npm run infra -- install` (infra/lib/chromium.sh); playwright-core downloads nothing.
const CHROMIUM = '/usr/bin/chromium';
const ADMIN_TOKEN = 'admin-page-test-token-0123456789abcdef';
const SCREENSHOT = join(repoRoot, 'tests', 'artifacts', 'admin-overview.png');

/** What a GET must never change: every row's status, attempts and due time. */
async function outboxSnapshot(fx: RelayFixture): Promise<string> {
  const { rows } = await fx.sql.query(
    'select id, status, attempts, next_attempt_at, published_at from outbox_event order by seq',
  );
  return JSON.stringify(rows);
}

describe('the admin page, in headless Chromium against the real api, relay, PostgreSQL and Kafka', () => {
  let fx: RelayFixture;
  let api: ServiceProcess;
  let base: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let deadId: string;
  let blockedId: string;

  beforeAll(async () => {
    fx = await relayFixture({ partitions: 3 });
    // Three events that flow, and one product whose first event is DEAD and blocks its second.
    await seedOutbox(fx.sql, { topic: fx.topic, products: 3, eventsPerProduct: 1 });
    const product = newId();
    const dead = buildProductEvent('product.created', productSnapshot(product, 1), {
      shardCount: 64,
      topic: fx.topic,
    });
    const blocked = buildProductEvent('product.updated', productSnapshot(product, 2), {
      shardCount: 64,
      topic: fx.topic,
    });
    await insertEvents(fx.sql, [dead, blocked]);
    await fx.sql.query(
      `update outbox_event set status = 'DEAD', attempts = 10, last_error = 'KafkaJSProtocolError: broker refused the record'
       where id = $1`,
      [dead.id],
    );
    deadId = dead.id;
    blockedId = blocked.id;
    await fx.startRelay();
    await fx.waitAllPublished(3, 60_000);

    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    api = startService('services/api/src/main.ts', {
      DATABASE_URL: fx.db.url,
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'info',
      JWT_SECRET: 'admin-page-test-jwt-secret-0123456789',
      ADMIN_TOKEN,
      KAFKA_BROKERS: fx.brokers,
      CONSUMER_GROUP_ID: randomGroup('admin-page'),
      CONSUMER_TOPIC: fx.topic,
    });
    await waitFor(async () => (await fetch(`${base}/readyz`).catch(() => undefined))?.ok, {
      description: 'the api to be ready',
      timeoutMs: 60_000,
    }).catch((err: unknown) => {
      throw new Error(`the api did not start; its output:\n${api.output()}`, { cause: err });
    });

    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    context = await browser.newContext();
    page = await context.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    if (api) {
      api.child.kill('SIGTERM');
      await api.exited;
    }
    await fx?.close();
  });

  it('refuses the pages without a session, and refuses a wrong token at the login form', async () => {
    const res = await page.goto(`${base}/admin/dead`);
    expect(res?.status()).toBe(401);
    expect(await page.locator('input[name="token"]').count()).toBe(1);
    expect(await page.content()).not.toContain(deadId);

    await page.fill('input[name="token"]', `${ADMIN_TOKEN}-wrong`);
    const [refused] = await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
    expect(refused?.status()).toBe(401);
    expect(await page.locator('[role="alert"]').innerText()).toContain('That is not the admin token.');
    expect(await context.cookies()).toEqual([]);
  });

  it('logs in with the admin token and shows the pipeline overview (screenshot in tests/artifacts/)', async () => {
    await page.goto(`${base}/admin/login`);
    await page.fill('input[name="token"]', ADMIN_TOKEN);
    await Promise.all([page.waitForURL(`${base}/admin`), page.click('button[type="submit"]')]);
    const [cookie] = await context.cookies();
    expect(cookie).toMatchObject({
      name: 'shopstream_admin',
      httpOnly: true,
      sameSite: 'Strict',
      path: '/admin',
    });
    expect(cookie?.value).not.toContain(ADMIN_TOKEN);

    expect(await page.locator('h1').innerText()).toBe('Pipeline overview');
    expect(await page.locator('[data-count="PUBLISHED"] b').innerText()).toBe('3');
    expect(await page.locator('[data-count="DEAD"] b').innerText()).toBe('1');
    expect(await page.locator('[data-count="PENDING"] b').innerText()).toBe('1');
    expect(await page.locator('[data-testid="relays-alive"]').innerText()).toContain('1 relay(s) alive');
    // The group never committed: it would start at the earliest offset, as many messages behind as
    // the topic holds. That is at least the 3 published rows, and more when a send timed out under
    // load and the relay published again (at-least-once), so the number comes from Kafka itself.
    const kafka = new Kafka({ clientId: 'admin-test', brokers: [fx.brokers], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const ends = await admin.fetchTopicOffsets(fx.topic);
    await admin.disconnect();
    const held = ends.reduce((sum, e) => sum + Number(e.high) - Number(e.low), 0);
    expect(held).toBeGreaterThanOrEqual(3);
    expect(await page.locator('[data-testid="lag-total"]').innerText()).toBe(String(held));

    await mkdir(join(repoRoot, 'tests', 'artifacts'), { recursive: true });
    const png = await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(png.subarray(1, 4).toString()).toBe('PNG');
  });

  it('shows the consumer lag per partition as Kafka reports it', async () => {
    await page.click('text=Consumer lag');
    await page.waitForURL(`${base}/admin/lag`);
    const kafka = new Kafka({ clientId: 'admin-test', brokers: [fx.brokers], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const ends = await admin.fetchTopicOffsets(fx.topic);
    await admin.disconnect();
    for (const e of ends) {
      const cells = await page.locator(`tr[data-partition="${e.partition}"] td`).allInnerTexts();
      expect(cells).toEqual([
        fx.topic,
        String(e.partition),
        '—',
        e.low,
        e.high,
        String(Number(e.high) - Number(e.low)),
      ]);
    }
  });

  it('lets no GET change anything, not even on an action URL, and refuses a POST without the CSRF token', async () => {
    const before = await outboxSnapshot(fx);
    for (const action of ['requeue', 'skip']) {
      const viaBrowser = await page.goto(`${base}/admin/outbox/${deadId}/${action}`);
      expect(viaBrowser?.status()).toBe(405);
      const viaRequest = await context.request.get(`${base}/admin/outbox/${deadId}/${action}?_csrf=x`);
      expect(viaRequest.status()).toBe(405);
    }
    for (const path of [
      '/admin',
      '/admin/dead',
      '/admin/outbox?status=DEAD',
      `/admin/outbox/${deadId}`,
      '/admin/lag',
    ]) {
      expect((await context.request.get(`${base}${path}`)).status()).toBe(200);
    }
    // The browser pages through the real table in commit order and filters by product.
    await page.goto(`${base}/admin/outbox`);
    const all = await page
      .locator('tr[data-event-id]')
      .evaluateAll((trs) =>
        trs.map((tr) => [tr.getAttribute('data-event-id'), tr.querySelector('td')?.textContent]),
      );
    expect(all).toHaveLength(5);
    await page.goto(`${base}/admin/outbox?after=${all[2]![1]}`);
    expect(
      await page
        .locator('tr[data-event-id]')
        .evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-event-id'))),
    ).toEqual([all[3]![0], all[4]![0]]);
    const { rows: productRows } = await fx.sql.query<{ aggregate_id: string }>(
      'select aggregate_id from outbox_event where id = $1',
      [deadId],
    );
    await page.goto(`${base}/admin/outbox?status=pending&product=${productRows[0]!.aggregate_id}`);
    expect(
      await page
        .locator('tr[data-event-id]')
        .evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-event-id'))),
    ).toEqual([blockedId]);

    const forged = await context.request.post(`${base}/admin/outbox/${deadId}/requeue`, {
      form: { _csrf: 'forged' },
    });
    expect(forged.status()).toBe(403);
    const badId = await context.request.post(`${base}/admin/outbox/not-a-uuid/requeue`, { form: {} });
    expect(badId.status()).toBe(400);
    expect(await badId.text()).toContain('is not a UUID');
    const badStatus = await page.goto(`${base}/admin/outbox?status=LOST`);
    expect(badStatus?.status()).toBe(400);
    expect(await page.locator('[role="alert"]').innerText()).toContain('status "LOST" is unknown');
    expect(await outboxSnapshot(fx)).toBe(before);
  });

  it('shows the DEAD row, requeues it with the button, and then shows it PUBLISHED', async () => {
    await page.goto(`${base}/admin`);
    await Promise.all([page.waitForURL(`${base}/admin/dead`), page.click('nav >> text=DEAD rows')]);
    const row = page.locator(`tr[data-event-id="${deadId}"]`);
    expect(await row.getAttribute('data-status')).toBe('DEAD');
    expect(await row.innerText()).toContain('broker refused the record');
    expect(await page.locator('tr[data-event-id]').count()).toBe(1);

    await Promise.all([
      page.waitForURL(`${base}/admin/outbox/${deadId}?done=requeue`),
      row.locator('button', { hasText: 'Requeue' }).click(),
    ]);
    expect(await page.locator('[role="status"]').innerText()).toContain('Requeued');

    await waitFor(
      async () => {
        await page.reload();
        return (await page.locator('[data-testid="event-status"]').innerText()) === 'PUBLISHED';
      },
      { description: 'the requeued event to show PUBLISHED', timeoutMs: 60_000, intervalMs: 500 },
    );
    const { rows } = await fx.sql.query<{ id: string; status: string; kafka_offset: string | null }>(
      'select id, status, kafka_offset from outbox_event where id = any($1) order by seq',
      [[deadId, blockedId]],
    );
    // Its product's next event, which waited behind the DEAD one, is published after it.
    expect(rows.map((r) => [r.id, r.status])).toEqual([
      [deadId, 'PUBLISHED'],
      [blockedId, 'PUBLISHED'],
    ]);
    expect(await fx.statusCounts()).toEqual({ PUBLISHED: 5 });
    const records = await readTopic(fx.brokers, fx.topic, 5, 60_000);
    expect(records.map((r) => r.headers.ce_id)).toEqual(expect.arrayContaining([deadId, blockedId]));

    await page.goto(`${base}/admin/dead`);
    expect(await page.locator('[data-testid="no-rows"]').count()).toBe(1);
    const logLine = api
      .output()
      .split('\n')
      .filter((l) => l.includes('"admin action"'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logLine).toEqual([
      expect.objectContaining({ action: 'requeue', eventId: deadId, outcome: 'requeued', via: 'session' }),
    ]);
  });
});
