import { setTimeout as sleep } from 'node:timers/promises';
import {
  freePort,
  mtlsEnv,
  oneLogin,
  saslSslEnv,
  seedOutbox,
  startSecuredKafka,
  startService,
  waitFor,
} from '../../harness/index.js';
import type { SecuredKafka } from '../../harness/index.js';
import { cliEnv, parseJson, runCli } from '../cli/cli-fixture.js';
import { consumerFixture, productEvents, readModels } from '../consumer/consumer-fixture.js';
import type { ConsumerFixture } from '../consumer/consumer-fixture.js';
import { readWholeTopic, relayFixture, relayMetric } from '../relay/relay-fixture.js';
import type { RelayFixture } from '../relay/relay-fixture.js';

interface LagJson {
  totalLag: number;
  partitions: { partition: number; lag: number }[];
}

/**
 * Issue 16 item 4: the relay, the consumer and the CLI connect to Kafka through one builder of the
 * services' keys (KAFKA_SSL, KAFKA_SSL_CA_FILE, KAFKA_SASL_*, KAFKA_SSL_CERT/KEY_FILE). Against a
 * broker with a SASL_SSL listener (self-signed CA, SCRAM-SHA-512 users made by Kafka's StorageTool)
 * and an mTLS listener, each works with the right credentials, and with wrong ones fails with a
 * sentence that says so, without a retry storm (counted in the broker's own log) and without
 * publishing or applying anything. The fixtures' own clients use the PLAINTEXT listener.
 */
describe('Kafka over SASL_SSL with SCRAM users', () => {
  let kafka: SecuredKafka;
  const fixtures: { close(): Promise<void> }[] = [];
  const track = <F extends { close(): Promise<void> }>(f: F): F => (fixtures.push(f), f);

  beforeAll(async () => {
    kafka = await startSecuredKafka();
  });
  afterAll(async () => {
    for (const f of fixtures) await f.close().catch(() => undefined);
    await kafka?.destroy();
  });

  describe('the relay', () => {
    let f: RelayFixture;
    beforeEach(async () => {
      f = track(await relayFixture({ partitions: 3, brokers: kafka.brokers }));
      await seedOutbox(f.sql, { topic: f.topic, products: 5, eventsPerProduct: 2 });
    });

    it('publishes every outbox event as SCRAM user relay, trusting the broker through KAFKA_SSL_CA_FILE', async () => {
      await f.startRelay(saslSslEnv(kafka, 'relay'));
      await f.waitAllPublished(10, 30_000);
      expect(await readWholeTopic(kafka.brokers, f.topic)).toHaveLength(10);
    });

    it('with a wrong password: says authentication failed, probes with growing backoff, publishes nothing', async () => {
      const before = await kafka.failedAuthentications('saslSsl');
      const relay = await f.startRelay(saslSslEnv(kafka, 'relay', { password: 'not-the-password' }));
      await sleep(12_000);
      const refused = (await kafka.failedAuthentications('saslSsl')) - before;
      // Start-up connect, first send, then probes 0.5, 1, 2, 4, 8 s apart (RELAY_CIRCUIT_BASE_MS):
      // a handful in 12 s. A loop without backoff would log hundreds.
      expect(refused).toBeGreaterThanOrEqual(2);
      expect(refused).toBeLessThanOrEqual(10);
      expect(relay.output()).toContain(
        `Kafka authentication failed: failed to read metadata of topic ${f.topic}: Kafka at ${kafka.saslSsl} refused the credentials (SASL SCRAM-SHA-512 authentication failed for user 'relay')`,
      );
      expect(relay.output()).not.toContain('not-the-password');
      expect(await relayMetric(relay, 'shopstream_relay_circuit_open')).toBe(1);
      expect(await f.statusCounts()).toEqual({ PENDING: 10 });
      const { rows } = await f.sql.query<{ n: number }>(
        'select count(*)::int as n from outbox_event where attempts > 0',
      );
      expect(rows[0]!.n).toBe(0);
      expect(await readWholeTopic(kafka.brokers, f.topic)).toHaveLength(0);
    });

    it('trusting another CA: names the certificate as not signed by the CA in KAFKA_SSL_CA_FILE', async () => {
      const relay = await f.startRelay(saslSslEnv(kafka, 'relay', { caFile: kafka.files.otherCa }));
      await waitFor(async () => relay.output().includes('presented a certificate not signed by the CA'), {
        description: 'the relay to name the untrusted certificate',
        timeoutMs: 15_000,
      });
      expect(relay.output()).toContain(
        `Kafka at ${kafka.saslSsl} presented a certificate not signed by the CA in KAFKA_SSL_CA_FILE (${kafka.files.otherCa}; UNABLE_TO_VERIFY_LEAF_SIGNATURE)`,
      );
      expect(await f.statusCounts()).toEqual({ PENDING: 10 });
    });
  });

  describe('the consumer and the CLI', () => {
    let f: ConsumerFixture;
    beforeAll(async () => {
      f = track(await consumerFixture({ partitions: 3, brokers: kafka.brokers }));
      await f.produce(productEvents(4, 2, f.topic));
    });
    const cli = (extra: Record<string, string>) => ({
      ...cliEnv({ databaseUrl: f.db.url, brokers: kafka.saslSsl, group: f.group, topic: f.topic }),
      ...extra,
    });

    it('with a wrong password: the consumer exits 1 at start-up with one sentence, having tried once', async () => {
      const before = await kafka.failedAuthentications('saslSsl');
      const consumer = startService('services/consumer/src/main.ts', {
        DATABASE_URL: f.db.url,
        CONSUMER_GROUP_ID: f.group,
        CONSUMER_TOPIC: f.topic,
        METRICS_HOST: '127.0.0.1',
        METRICS_PORT: String(await freePort()),
        ...saslSslEnv(kafka, 'consumer', { password: 'not-the-password' }),
      });
      const code = await Promise.race([consumer.exited, sleep(20_000, 'still running')]);
      consumer.child.kill('SIGKILL');
      expect(code).toBe(1);
      expect(consumer.output()).toContain(
        `Kafka at ${kafka.saslSsl} refused the credentials (SASL SCRAM-SHA-512 authentication failed for user 'consumer')`,
      );
      // Kubernetes restarts it with CrashLoopBackOff: the backoff is the kubelet's, one attempt per start.
      expect(oneLogin((await kafka.failedAuthentications('saslSsl')) - before)).toBe(true);
      expect((await readModels(f.sql)).search).toHaveLength(0);
    });

    it('the consumer applies every event as SCRAM user consumer, and `shopstream lag` and `status` read the group', async () => {
      await f.startConsumer(saslSslEnv(kafka, 'consumer'));
      await waitFor(async () => (await readModels(f.sql)).search.length === 4, {
        description: 'the 4 products applied',
        timeoutMs: 30_000,
      });
      await waitFor(
        async () => {
          const lag = await runCli(['lag', '--json'], cli(saslSslEnv(kafka, 'cli')));
          return lag.code === 0 && parseJson<LagJson>(lag).totalLag === 0;
        },
        { description: 'shopstream lag over SASL_SSL to report lag 0', timeoutMs: 20_000 },
      );
      const status = await runCli(['status', '--json'], cli(saslSslEnv(kafka, 'cli')));
      expect(status.stderr).toBe('');
      expect(parseJson<{ consumerGroup: { state?: string } }>(status).consumerGroup.state).toBe('Stable');
    });

    it('`shopstream lag` with a wrong password: one line naming the refused credentials, exit 1, in seconds', async () => {
      const before = await kafka.failedAuthentications('saslSsl');
      const started = Date.now();
      const result = await runCli(['lag'], cli(saslSslEnv(kafka, 'cli', { password: 'not-the-password' })));
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toBe(
        `shopstream: Kafka at ${kafka.saslSsl} refused the credentials (SASL SCRAM-SHA-512 authentication failed for user 'cli'): check KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD\n`,
      );
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(oneLogin((await kafka.failedAuthentications('saslSsl')) - before)).toBe(true);
    });

    it('`shopstream lag` trusting another CA: one line naming KAFKA_SSL_CA_FILE, exit 1', async () => {
      const result = await runCli(['lag'], cli(saslSslEnv(kafka, 'cli', { caFile: kafka.files.otherCa })));
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        `shopstream: Kafka at ${kafka.saslSsl} presented a certificate not signed by the CA in KAFKA_SSL_CA_FILE (${kafka.files.otherCa}; UNABLE_TO_VERIFY_LEAF_SIGNATURE)\n`,
      );
    });

    it('`shopstream lag` over mTLS: reads the group with a client certificate, names the missing one without', async () => {
      const ok = await runCli(['lag', '--json'], { ...cli({}), ...mtlsEnv(kafka) });
      expect(ok.stderr).toBe('');
      expect(parseJson<LagJson>(ok).totalLag).toBe(0);
      const without = await runCli(['lag'], { ...cli({}), ...mtlsEnv(kafka, false) });
      expect(without.code).toBe(1);
      expect(without.stderr).toMatch(
        new RegExp(
          `^shopstream: Kafka at ${kafka.mtls} requires a client certificate \\(.+\\): set KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE\\n$`,
        ),
      );
    });

    it('a certificate without its key is bad configuration: exit 2 naming both keys', async () => {
      const env = { ...cli({}), ...mtlsEnv(kafka) };
      delete env.KAFKA_SSL_KEY_FILE;
      const result = await runCli(['lag'], env);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(
        'KAFKA_SSL_CERT_FILE: KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE go together',
      );
    });
  });
});
