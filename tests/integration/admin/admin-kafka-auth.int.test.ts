import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { migrate } from '@shopstream/shared';
import {
  createTestDatabase,
  freePort,
  randomGroup,
  randomTopic,
  oneLogin,
  saslSslEnv,
  startSecuredKafka,
  startService,
  waitFor,
} from '../../harness/index.js';
import type { SecuredKafka, ServiceProcess, TestDatabase } from '../../harness/index.js';

const ADMIN_TOKEN = 'admin-kafka-auth-test-token-0123456789';
const WRONG_PASSWORD = 'not-the-password';
/** kafkajs's own wording or a stack frame: what the page must not show instead of the sentence. */
const KAFKAJS_TEXT =
  /KafkaJS|SASL SCRAM SHA512 authentication failed|Connection error|\bat \S+ \(\S+:\d+:\d+\)/;

interface AdminApi {
  /** The consumer group whose lag the page shows. */
  group: string;
  /** GET with the admin token as a Bearer header: the status and the HTML. */
  get(path: string): Promise<{ status: number; html: string }>;
  process: ServiceProcess;
}

const ENTITIES: Record<string, string> = {
  '&amp;': '&',
  '&lt;': '<',
  '&gt;': '>',
  '&quot;': '"',
  '&#39;': "'",
};

/** The text of the part of an admin page that says what went wrong (lag or DLQ problem, error page list). */
const problemOf = (html: string): string =>
  (
    /data-(?:lag|dlq)-state="error">([\s\S]*?)<\/p>|role="alert">([\s\S]*?)<\/div>/
      .exec(html)
      ?.slice(1)
      .find(Boolean) ?? ''
  )
    .replace(/<[^>]+>/g, '')
    .replace(/&(?:amp|lt|gt|quot|#39);/g, (e) => ENTITIES[e]!)
    .replace(/\s+/g, ' ')
    .trim();

/** The pause the page announces: "(not tried again before <ISO time>)". */
const retryAtOf = (html: string): number =>
  Date.parse(/not tried again before ([^)\s]+)\)/.exec(html)?.[1] ?? 'none');

/**
 * Issue 16 item 4, the API's part: the admin page reads Kafka (the lag table, the DLQ view) with
 * the API's own keys. Against the SASL_SSL broker of tests/harness/secured-kafka.ts it reads as
 * SCRAM user `api`; with a wrong password or a CA that did not sign the broker, every page names the
 * problem in the sentence the relay, consumer, CLI and operator use (kafkaSecurityFailure), with no
 * password and no kafkajs text, and refreshing the pages does not log in again until the refusal's
 * pause is over (counted in the broker's own log).
 */
describe('the admin page on Kafka over SASL_SSL', () => {
  let kafka: SecuredKafka;
  let db: TestDatabase;
  const topic = randomTopic('admin-auth.events');
  const started: ServiceProcess[] = [];

  /** The real API process with the admin page, reading `topic` and its DLQ with `kafkaEnv`. */
  async function startAdminApi(kafkaEnv: Record<string, string>): Promise<AdminApi> {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const group = randomGroup('admin-auth');
    const api = startService('services/api/src/main.ts', {
      DATABASE_URL: db.url,
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'info',
      JWT_SECRET: 'admin-kafka-auth-test-jwt-secret-0123456789',
      ADMIN_TOKEN,
      CONSUMER_GROUP_ID: group,
      CONSUMER_TOPIC: topic,
      ...kafkaEnv,
    });
    started.push(api);
    await waitFor(async () => (await fetch(`${base}/readyz`).catch(() => undefined))?.ok, {
      description: 'the api to be ready',
      timeoutMs: 60_000,
    }).catch((err: unknown) => {
      throw new Error(`the api did not start; its output:\n${api.output()}`, { cause: err });
    });
    return {
      group,
      process: api,
      async get(path) {
        const res = await fetch(`${base}${path}`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
        return { status: res.status, html: await res.text() };
      },
    };
  }

  beforeAll(async () => {
    kafka = await startSecuredKafka();
    // Set up over the PLAINTEXT listener: the topic, its DLQ with one record.
    const setup = new Kafka({
      clientId: 'admin-auth-setup',
      brokers: [kafka.brokers],
      logLevel: logLevel.NOTHING,
    });
    const admin = setup.admin();
    await admin.connect();
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic, numPartitions: 2, replicationFactor: 1 },
        { topic: `${topic}.dlq`, numPartitions: 1, replicationFactor: 1 },
      ],
    });
    await admin.disconnect();
    db = await createTestDatabase('admin_kafka_auth');
    await migrate(db.url);
  }, 180_000);
  afterAll(async () => {
    for (const api of started) {
      api.child.kill('SIGTERM');
      await api.exited;
    }
    await db?.drop();
    await kafka?.destroy();
  });

  it('reads the lag and the DLQ as SCRAM user api, trusting the broker through KAFKA_SSL_CA_FILE', async () => {
    const api = await startAdminApi(saslSslEnv(kafka, 'api'));
    // A broker just started may still be loading __consumer_offsets ("The coordinator is loading"):
    // the page reports that and the next load asks again.
    const lag = await waitFor(
      async () => {
        const page = await api.get('/admin/lag');
        return !/coordinator is loading/.test(page.html) && page;
      },
      { description: 'the group coordinator of the new broker to be loaded', timeoutMs: 30_000 },
    );
    expect(problemOf(lag.html)).toBe('');
    expect(lag.html).toContain('data-lag-state="ok"');
    expect(lag.html).toContain(`partitions of <code>${topic}</code>`);
    const dlq = await api.get('/admin/dlq');
    expect(problemOf(dlq.html)).toBe('');
    expect(dlq.html).toContain('data-testid="no-dlq-records"');
  });

  it('with a wrong password: every page names the refused login in one sentence, and refreshing does not log in again', async () => {
    const api = await startAdminApi(saslSslEnv(kafka, 'api', { password: WRONG_PASSWORD }));
    const sentence = `Kafka at ${kafka.saslSsl} refused the credentials (SASL SCRAM-SHA-512 authentication failed for user 'api'): check KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD`;
    const before = await kafka.failedAuthentications('saslSsl');

    const overview = await api.get('/admin');
    expect(overview.status).toBe(200);
    const retryAt = retryAtOf(overview.html);
    const pause = `(not tried again before ${new Date(retryAt).toISOString()})`;
    expect(problemOf(overview.html)).toBe(
      `Lag of group ${api.group} on ${topic} is unavailable: ${sentence} ${pause}`,
    );
    // Refreshed by hand or by a monitor, the pages answer from the refusal while its pause lasts.
    const pages = [];
    for (let i = 0; i < 3; i++) {
      pages.push(await api.get('/admin'), await api.get('/admin/lag'), await api.get('/admin/dlq'));
    }
    const record = await api.get('/admin/dlq/0/0');
    expect(record.status).toBe(503);
    expect(problemOf(record.html)).toBe(`${sentence} ${pause}`);
    expect(problemOf(pages.at(-1)!.html)).toBe(
      `The DLQ topic ${topic}.dlq cannot be read: ${sentence} ${pause}`,
    );
    for (const page of [overview, ...pages, record]) {
      expect(problemOf(page.html)).toContain(`${sentence} ${pause}`);
      expect(page.html).not.toContain(WRONG_PASSWORD);
      expect(page.html).not.toMatch(KAFKAJS_TEXT);
    }
    // 11 page loads, one login: without the pause each load logs in (and is refused) again.
    await sleep(1_000); // the broker writes its log line after refusing
    const firstLogin = (await kafka.failedAuthentications('saslSsl')) - before;
    expect(oneLogin(firstLogin)).toBe(true);

    // After the pause the next load asks Kafka again (a fixed KafkaUser would be picked up), once,
    // and the next pause is longer.
    await sleep(Math.max(0, retryAt - Date.now()) + 200);
    const again = await api.get('/admin/lag');
    expect(problemOf(again.html)).toContain(sentence);
    expect(retryAtOf(again.html)).toBeGreaterThan(retryAt);
    expect(problemOf((await api.get('/admin/dlq')).html)).toContain(sentence);
    await sleep(1_000);
    expect(oneLogin((await kafka.failedAuthentications('saslSsl')) - before - firstLogin)).toBe(true);
    expect(api.process.output()).not.toContain(WRONG_PASSWORD);
  });

  it('trusting another CA: the lag table and the DLQ view name the certificate as not signed by the CA in KAFKA_SSL_CA_FILE', async () => {
    const api = await startAdminApi(saslSslEnv(kafka, 'api', { caFile: kafka.files.otherCa }));
    const sentence = `Kafka at ${kafka.saslSsl} presented a certificate not signed by the CA in KAFKA_SSL_CA_FILE (${kafka.files.otherCa}; UNABLE_TO_VERIFY_LEAF_SIGNATURE)`;
    for (const path of ['/admin/lag', '/admin/dlq']) {
      const page = await api.get(path);
      expect(page.status).toBe(200);
      expect(problemOf(page.html)).toContain(sentence);
      expect(page.html).not.toMatch(KAFKAJS_TEXT);
    }
  });
});
