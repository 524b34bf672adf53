import { Kafka, logLevel } from 'kafkajs';
import type { Admin, Producer } from 'kafkajs';
import { migrate } from '@shopstream/shared';
import {
  createTestDatabase,
  fixtureProducer,
  freePort,
  infraEnv,
  randomTopic,
  readTopic,
  startService,
  waitFor,
} from '../../harness/index.js';
import type { ServiceProcess, TestDatabase } from '../../harness/index.js';

const ADMIN_TOKEN = 'admin-dlq-test-token-0123456789abcdef';

describe('the admin page DLQ view, over HTTP against the real api process and Kafka', () => {
  const brokers = infraEnv().kafkaBrokers;
  const originalTopic = randomTopic('admin-dlq.events');
  const dlqTopic = `${originalTopic}.dlq`;
  const kafka = new Kafka({ clientId: 'admin-dlq-test', brokers: [brokers], logLevel: logLevel.NOTHING });
  let admin: Admin;
  let producer: Producer;
  let db: TestDatabase;
  let api: ServiceProcess;
  let base: string;
  let cookie: string;

  const get = (path: string, headers: Record<string, string> = {}): Promise<Response> =>
    fetch(`${base}${path}`, { headers: { Cookie: cookie, ...headers }, redirect: 'manual' });
  const post = (path: string, fields: Record<string, string>): Promise<Response> =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { Cookie: cookie, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
      redirect: 'manual',
    });
  const highs = async (topic: string): Promise<string[]> =>
    (await admin.fetchTopicOffsets(topic)).sort((a, b) => a.partition - b.partition).map((o) => o.high);

  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic: originalTopic, numPartitions: 3, replicationFactor: 1 },
        { topic: dlqTopic, numPartitions: 1, replicationFactor: 1 },
      ],
    });
    producer = fixtureProducer(kafka);
    await producer.connect();
    const headers = (ceId: string, code: string, offset: number) => ({
      ce_specversion: '1.0',
      ce_id: ceId,
      ce_type: 'product.renamed',
      'content-type': 'application/json',
      dlq_original_topic: originalTopic,
      dlq_original_partition: '0',
      dlq_original_offset: String(offset),
      dlq_error_code: code,
      dlq_error_message: `refused <b>${ceId}</b>`,
      dlq_failed_at: new Date().toISOString(),
    });
    await producer.send({
      topic: dlqTopic,
      acks: -1,
      messages: [
        {
          key: 'product-a',
          value: '{"id":"product-a"}',
          headers: headers('event-a', 'UNKNOWN_EVENT_TYPE', 5),
        },
        { key: 'product-b', value: '{"id":"product-b"}', headers: headers('event-b', 'NOT_JSON', 6) },
      ],
    });

    db = await createTestDatabase('admin_dlq');
    await migrate(db.url);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    // No CONSUMER_DLQ_TOPIC: the view reads `<CONSUMER_TOPIC>.dlq`, the consumer's default.
    api = startService('services/api/src/main.ts', {
      DATABASE_URL: db.url,
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'info',
      JWT_SECRET: 'admin-dlq-test-jwt-secret-0123456789',
      ADMIN_TOKEN,
      KAFKA_BROKERS: brokers,
      CONSUMER_TOPIC: originalTopic,
    });
    await waitFor(async () => (await fetch(`${base}/readyz`).catch(() => undefined))?.ok, {
      description: 'the api to be ready',
      timeoutMs: 60_000,
    }).catch((err: unknown) => {
      throw new Error(`the api did not start; its output:\n${api.output()}`, { cause: err });
    });
    const login = await fetch(`${base}/admin/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: ADMIN_TOKEN }).toString(),
      redirect: 'manual',
    });
    expect(login.status).toBe(303);
    cookie = login.headers.get('Set-Cookie')!.split(';')[0]!;
  }, 120_000);

  afterAll(async () => {
    if (api) {
      api.child.kill('SIGTERM');
      await api.exited;
    }
    await producer?.disconnect();
    await admin?.deleteTopics({ topics: [originalTopic, dlqTopic] }).catch(() => undefined);
    await admin?.disconnect();
    await db?.drop();
  });

  it('lists the DLQ records, each with a Replay form carrying the CSRF token, and a GET changes nothing', async () => {
    const res = await get('/admin/dlq');
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain(`Topic <code>${dlqTopic}</code>: 2 record(s) stored in 1 partition(s)`);
    expect([...html.matchAll(/data-dlq-record="([^"]+)"/g)].map((m) => m[1])).toEqual(['0:0', '0:1']);
    expect(html).toContain('action="/admin/dlq/0/0/replay"');
    expect(html).toMatch(/name="_csrf" value="[^"]+"/);
    expect(html).toContain('refused &lt;b&gt;event-a&lt;/b&gt;');

    const filtered = await (await get('/admin/dlq?code=NOT_JSON')).text();
    expect([...filtered.matchAll(/data-dlq-record="([^"]+)"/g)].map((m) => m[1])).toEqual(['0:1']);

    const detail = await get('/admin/dlq/0/1');
    expect(detail.status).toBe(200);
    const detailHtml = await detail.text();
    expect(detailHtml).toContain('&quot;dlq_original_offset&quot;: &quot;6&quot;');
    expect(detailHtml).toContain('&quot;id&quot;: &quot;product-b&quot;');

    expect((await get('/admin/dlq/0/0/replay')).status).toBe(405);
    expect((await get('/admin/dlq/0/9')).status).toBe(404);
    expect(await highs(originalTopic)).toEqual(['0', '0', '0']);
  });

  it('refuses a Replay POST without a valid CSRF token, and replays one record with it, logged', async () => {
    const forged = await post('/admin/dlq/0/0/replay', { _csrf: 'forged' });
    expect(forged.status).toBe(403);
    expect(await highs(originalTopic)).toEqual(['0', '0', '0']);

    const page = await (await get('/admin/dlq')).text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page)![1]!;
    const res = await post('/admin/dlq/0/0/replay', { _csrf: csrf });
    expect(res.status).toBe(303);
    expect(res.headers.get('Location')).toBe(`/admin/dlq/0/0?replayed=${encodeURIComponent(originalTopic)}`);
    const after = await (await get(res.headers.get('Location')!)).text();
    expect(after).toContain(`Replayed to <code>${originalTopic}</code>`);

    const [landed, ...others] = await readTopic(brokers, originalTopic, 1, 60_000);
    expect(others).toEqual([]);
    expect(landed).toMatchObject({ key: 'product-a', value: '{"id":"product-a"}' });
    const { dlq_replayed_at: replayedAt, ...headers } = landed!.headers;
    expect(headers).toEqual({
      ce_specversion: '1.0',
      ce_id: 'event-a',
      ce_type: 'product.renamed',
      'content-type': 'application/json',
    });
    expect(Number.isNaN(Date.parse(replayedAt!))).toBe(false);
    expect((await highs(originalTopic)).reduce((n, h) => n + Number(h), 0)).toBe(1);

    await waitFor(() => api.output().includes('"action":"dlq-replay"'), {
      description: 'the replay log line',
    });
    const line = api
      .output()
      .split('\n')
      .find((l) => l.includes('"action":"dlq-replay"'))!;
    expect(JSON.parse(line)).toMatchObject({
      msg: 'admin action',
      action: 'dlq-replay',
      dlqTopic,
      partition: 0,
      offset: '0',
      originalTopic,
      ceId: 'event-a',
      outcome: 'replayed',
      via: 'session',
    });
  }, 90_000);
});
