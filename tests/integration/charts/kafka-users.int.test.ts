import { readFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { ConsumerGroupAdmin, DirectTopicAdmin, kafkaTargetOf, privateAdmin } from '@shopstream/operator';
import type { ProductPipeline, SecretReader } from '@shopstream/operator';
import { migrate } from '@shopstream/shared';
import {
  addKafkaUserAcls,
  consumerGroupsCommitted,
  freePort,
  randomGroup,
  randomTopic,
  seedOutbox,
  startSecuredKafka,
  startService,
  waitFor,
} from '../../harness/index.js';
import type { KafkaUserAcl, SecuredKafka, ServiceProcess } from '../../harness/index.js';
import { consumerFixture, dlqRecordCount, productEvents, readModels } from '../consumer/consumer-fixture.js';
import type { ConsumerFixture } from '../consumer/consumer-fixture.js';
import { readWholeTopic, relayFixture } from '../relay/relay-fixture.js';
import type { RelayFixture } from '../relay/relay-fixture.js';
import { prepareUmbrella } from './observability-helm.js';
import type { Manifest, Umbrella } from './observability-helm.js';

/** The users values-production.yaml logs each component in as (and the KafkaUsers it renders). */
const USERS = {
  api: 'shopstream-api',
  relay: 'shopstream-relay',
  consumer: 'shopstream-consumer',
  operator: 'shopstream-operator',
} as const;
const CLUSTER_CA_SECRET = 'kafka-prod-cluster-ca-cert';
const TLS_BOOTSTRAP = 'kafka-prod-kafka-bootstrap.kafka:9093';

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}
interface PodSpec {
  containers: {
    name: string;
    env?: EnvVar[];
    volumeMounts?: { name: string; mountPath: string; subPath?: string }[];
  }[];
  volumes?: { name: string; secret?: { secretName: string; items?: { key: string; path: string }[] } }[];
}
interface KafkaUser extends Manifest {
  spec: { authentication: { type: string }; authorization: { type: string; acls: KafkaUserAcl[] } };
}

const byKind = <T extends Manifest>(manifests: Manifest[], kind: string): T[] =>
  manifests.filter((m) => m.kind === kind) as T[];
const componentOf = (m: Manifest) =>
  (m.metadata.labels as Record<string, string> | undefined)?.['app.kubernetes.io/component'];
const podOf = (manifests: Manifest[], component: string): PodSpec => {
  const deployment = byKind<Manifest & { spec: { template: { spec: PodSpec } } }>(
    manifests,
    'Deployment',
  ).find((d) => d.metadata.name === `shopstream-${component}`);
  if (!deployment) throw new Error(`no Deployment shopstream-${component} rendered`);
  return deployment.spec.template.spec;
};

/** The file a pod reads at `path`: which Secret and key is mounted there. */
function secretFileAt(pod: PodSpec, container: PodSpec['containers'][number], path: string) {
  for (const mount of container.volumeMounts ?? []) {
    const inside = mount.subPath
      ? path === mount.mountPath
        ? mount.subPath
        : undefined
      : path.startsWith(`${mount.mountPath}/`)
        ? posix.relative(mount.mountPath, path)
        : undefined;
    if (inside === undefined) continue;
    const secret = pod.volumes?.find((v) => v.name === mount.name)?.secret;
    if (!secret) continue;
    const key = secret.items ? secret.items.find((i) => i.path === inside)?.key : inside;
    return { secret: secret.secretName, key };
  }
  return undefined;
}

/**
 * The Kafka keys of a component's rendered container, made runnable here: the TLS bootstrap becomes
 * the local SASL_SSL listener, the mounted cluster CA file the test CA, and the password Secret the
 * broker's password for that user. Everything else is exactly what the chart renders.
 */
function kafkaEnvOf(manifests: Manifest[], component: string, kafka: SecuredKafka): Record<string, string> {
  const pod = podOf(manifests, component);
  const container = pod.containers[0]!;
  const env: Record<string, string> = {};
  for (const e of container.env ?? []) {
    if (!e.name.startsWith('KAFKA_')) continue;
    const ref = e.valueFrom?.secretKeyRef;
    if (ref) {
      expect(ref.key).toBe('password');
      env[e.name] = kafka.passwords[ref.name] ?? `no user named after Secret ${ref.name}`;
    } else if (e.value !== undefined) env[e.name] = e.value;
  }
  expect(env.KAFKA_BROKERS).toBe(TLS_BOOTSTRAP);
  env.KAFKA_BROKERS = kafka.saslSsl;
  expect(secretFileAt(pod, container, env.KAFKA_SSL_CA_FILE ?? '')).toEqual({
    secret: CLUSTER_CA_SECRET,
    key: 'ca.crt',
  });
  env.KAFKA_SSL_CA_FILE = kafka.files.ca;
  return env;
}

/**
 * Issue 16 item 4, the production profile: every component reaches Kafka over TLS as its own
 * KafkaUser, rendered by the umbrella with the ACLs that component needs. The users' rules are put
 * on a broker with Kafka's StandardAuthorizer (by Kafka's own AclCommand, as Strimzi's User Operator
 * would) and each component does its job there with the keys the chart renders — and no more.
 */
describe('the production profile: a KafkaUser per component, enforced by a broker with ACLs', () => {
  let kafka: SecuredKafka;
  let umbrella: Umbrella;
  const closers: (() => Promise<unknown>)[] = [];

  /** values-production.yaml with the topics and group named for this test's broker. */
  const render = (names: { events: string; dlq: string; group: string }) =>
    umbrella.template({
      values: ['values-production.yaml'],
      set: [
        `kafkaUsers.acls.eventsTopic=${names.events}`,
        `kafkaUsers.acls.dlqTopic=${names.dlq}`,
        `kafkaUsers.acls.consumerGroup=${names.group}`,
        // --set replaces a list of the values file whole: every field of the entries.
        `pipeline.topics[0].name=${names.events}`,
        'pipeline.topics[0].partitions=3',
        `pipeline.topics[1].name=${names.dlq}`,
        'pipeline.topics[1].partitions=1',
        `pipeline.consumers[0].groupId=${names.group}`,
        `pipeline.consumers[0].topics[0]=${names.events}`,
      ],
    });
  /** Puts every rendered KafkaUser's rules on the broker. */
  const grant = async (manifests: Manifest[]) => {
    for (const user of byKind<KafkaUser>(manifests, 'KafkaUser'))
      await addKafkaUserAcls(kafka, user.metadata.name, user.spec.authorization.acls);
  };

  beforeAll(async () => {
    [kafka, umbrella] = await Promise.all([
      startSecuredKafka({ authorizer: true, users: Object.values(USERS) }),
      prepareUmbrella(),
    ]);
  }, 120_000);
  afterAll(async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    await umbrella?.remove();
    await kafka?.destroy();
  });

  it('renders no plain listener: every component and the operator use 9093 over TLS as their own KafkaUser', async () => {
    const manifests = await umbrella.template({ values: ['values-production.yaml'] });
    const users = byKind<KafkaUser>(manifests, 'KafkaUser');
    expect(Object.fromEntries(users.map((u) => [componentOf(u), u.metadata.name]))).toEqual(USERS);
    for (const user of users) {
      expect(user.metadata.labels).toMatchObject({ 'strimzi.io/cluster': 'kafka-prod' });
      expect(user.spec.authentication).toEqual({ type: 'scram-sha-512' });
      expect(user.spec.authorization.type).toBe('simple');
    }
    for (const component of ['api', 'relay', 'consumer'] as const) {
      const container = podOf(manifests, component).containers[0]!;
      const env = Object.fromEntries((container.env ?? []).map((e) => [e.name, e]));
      expect(env.KAFKA_BROKERS?.value).toBe(TLS_BOOTSTRAP);
      expect(env.KAFKA_SSL?.value).toBe('true');
      expect(env.KAFKA_SASL_MECHANISM?.value).toBe('scram-sha-512');
      expect(env.KAFKA_SASL_USERNAME?.value).toBe(USERS[component]);
      expect(env.KAFKA_SASL_PASSWORD?.valueFrom?.secretKeyRef).toEqual({
        name: USERS[component],
        key: 'password',
      });
    }
    const [pipeline] = byKind<ProductPipeline & Manifest>(manifests, 'ProductPipeline');
    expect(pipeline!.spec.kafka).toMatchObject({
      bootstrapServers: TLS_BOOTSTRAP,
      tls: { caSecretRef: { name: CLUSTER_CA_SECRET, key: 'ca.crt' } },
      authentication: {
        type: 'scram-sha-512',
        username: USERS.operator,
        passwordSecretRef: { name: USERS.operator, key: 'password' },
      },
    });
    // Nothing in the release names the cluster's plain port.
    expect(JSON.stringify(manifests)).not.toMatch(/kafka-bootstrap[^"]*:9092/);
  });

  it('refuses a component whose user does not match the Secret Strimzi writes for it', async () => {
    await expect(
      umbrella.template({
        values: ['values-production.yaml'],
        set: ['relay.kafka.authentication.passwordSecret.name=some-other-secret'],
      }),
    ).rejects.toThrow(
      'Strimzi writes user shopstream-relay\'s password to the Secret shopstream-relay, but relay.kafka.authentication names the Secret "some-other-secret"',
    );
  });

  describe('the relay as shopstream-relay', () => {
    let f: RelayFixture;
    beforeAll(async () => {
      f = await relayFixture({ partitions: 3, brokers: kafka.brokers });
      closers.push(() => f.close());
    });

    it('publishes every outbox event with its ACLs, and may not write the DLQ', async () => {
      const manifests = await render({ events: f.topic, dlq: `${f.topic}.dlq`, group: randomGroup('acl') });
      await grant(manifests);
      await seedOutbox(f.sql, { topic: f.topic, products: 4, eventsPerProduct: 2 });
      await f.startRelay(kafkaEnvOf(manifests, 'relay', kafka));
      await f.waitAllPublished(8, 30_000);
      expect(await readWholeTopic(kafka.brokers, f.topic)).toHaveLength(8);

      // Its rules name the event topic only: the same login may not write the DLQ.
      const asRelay = new Kafka({
        clientId: 'acl-probe',
        brokers: [kafka.saslSsl],
        ssl: { ca: [await readFile(kafka.files.ca, 'utf8')] },
        sasl: { mechanism: 'scram-sha-512', username: USERS.relay, password: kafka.passwords[USERS.relay]! },
        logLevel: logLevel.NOTHING,
        retry: { retries: 0 },
      });
      const probe = asRelay.producer();
      await probe.connect();
      try {
        await expect(probe.send({ topic: `${f.topic}.dlq`, messages: [{ value: 'x' }] })).rejects.toThrow(
          /not authorized/i,
        );
      } finally {
        await probe.disconnect();
      }
    });
  });

  describe('the consumer as shopstream-consumer and the admin page as shopstream-api', () => {
    let f: ConsumerFixture;
    let manifests: Manifest[];
    beforeAll(async () => {
      f = await consumerFixture({ partitions: 3, brokers: kafka.brokers });
      closers.push(() => f.close());
      manifests = await render({ events: f.topic, dlq: f.dlq, group: f.group });
      await grant(manifests);
    });

    it('the consumer applies every event and dead-letters a poison one', async () => {
      await f.produce(productEvents(3, 2, f.topic));
      await f.produceRaw([{ key: 'poison', value: 'not json', headers: {} }]);
      await f.startConsumer(kafkaEnvOf(manifests, 'consumer', kafka));
      await waitFor(async () => (await readModels(f.sql)).search.length === 3, {
        description: 'the 3 products applied',
        timeoutMs: 30_000,
      });
      await waitFor(async () => (await dlqRecordCount(f)) === 1, {
        description: 'the poison event in the DLQ',
        timeoutMs: 30_000,
      });
    });

    it('the admin page reads the group lag and the DLQ and replays a record', async () => {
      await migrate(f.db.url).catch(() => undefined);
      const port = await freePort();
      const base = `http://127.0.0.1:${port}`;
      const token = 'kafka-users-admin-token-0123456789abcdef';
      const api: ServiceProcess = startService('services/api/src/main.ts', {
        DATABASE_URL: f.db.url,
        HOST: '127.0.0.1',
        PORT: String(port),
        JWT_SECRET: 'kafka-users-test-jwt-secret-0123456789',
        ADMIN_TOKEN: token,
        CONSUMER_TOPIC: f.topic,
        CONSUMER_GROUP_ID: f.group,
        ...kafkaEnvOf(manifests, 'api', kafka),
      });
      closers.push(async () => {
        api.child.kill('SIGTERM');
        await api.exited;
      });
      await waitFor(async () => (await fetch(`${base}/readyz`).catch(() => undefined))?.ok, {
        description: 'the api to be ready',
        timeoutMs: 60_000,
      });
      const auth = { Authorization: `Bearer ${token}` };
      const page = async (path: string) => {
        const res = await fetch(`${base}${path}`, { headers: auth });
        expect(res.status).toBe(200);
        return res.text();
      };

      expect(await page('/admin/lag')).toMatch(/data-testid="lag-total"[^>]*>\s*0\s*</);
      // The one dead letter: partition 0, offset 0 of the single-partition DLQ, replayable.
      const dlq = await page('/admin/dlq');
      expect(dlq).toContain('action="/admin/dlq/0/0/replay"');
      expect(dlq).not.toMatch(/not authorized|authorization failed/i);

      const before = (await readWholeTopic(kafka.brokers, f.topic)).length;
      const replay = await fetch(`${base}/admin/dlq/0/0/replay`, {
        method: 'POST',
        headers: auth,
        redirect: 'manual',
      });
      expect(replay.status).toBe(303);
      await waitFor(async () => (await readWholeTopic(kafka.brokers, f.topic)).length === before + 1, {
        description: 'the replayed record back on the event topic',
        timeoutMs: 15_000,
      });
      expect(api.output()).not.toMatch(/authorization failed/i);
    });
  });

  describe('the operator as shopstream-operator, from the rendered ProductPipeline', () => {
    /**
     * The operator's own way to Kafka for the rendered pipeline (in namespace shop), logging in as
     * `user`: the Secrets of the release namespace are the copied cluster CA and the User
     * Operator's password Secret named after the user.
     */
    const operatorTarget = async (manifests: Manifest[], user: string) => {
      const [rendered] = byKind<ProductPipeline & Manifest>(manifests, 'ProductPipeline');
      const auth = rendered!.spec.kafka.authentication!;
      const pipeline = {
        ...rendered!,
        metadata: { ...rendered!.metadata, namespace: 'shop' },
        spec: {
          ...rendered!.spec,
          kafka: {
            ...rendered!.spec.kafka,
            bootstrapServers: kafka.saslSsl,
            authentication: { ...auth, username: user, passwordSecretRef: { name: user, key: 'password' } },
          },
        },
      } as ProductPipeline;
      const secrets: SecretReader = {
        async values(namespace, name, keys) {
          expect(namespace).toBe('shop');
          const data: Record<string, string> =
            name === CLUSTER_CA_SECRET
              ? { 'ca.crt': await readFile(kafka.files.ca, 'utf8') }
              : { password: kafka.passwords[name] ?? '' };
          return Object.fromEntries(keys.map((k) => [k, data[k]!]));
        },
      };
      return { pipeline, target: await kafkaTargetOf(pipeline, secrets) };
    };
    /** Two records on partition 0 of `topic`, and `group` committed past them (lag 0). */
    const groupAtEnd = async (topic: string, group: string) => {
      const client = new Kafka({
        clientId: 'acl-setup',
        brokers: [kafka.brokers],
        logLevel: logLevel.NOTHING,
      });
      const producer = client.producer();
      await producer.connect();
      await producer.send({
        topic,
        messages: [
          { partition: 0, value: 'a' },
          { partition: 0, value: 'b' },
        ],
      });
      await producer.disconnect();
      const setup = client.admin();
      await setup.connect();
      await setup.setOffsets({ groupId: group, topic, partitions: [{ partition: 0, offset: '2' }] });
      await setup.disconnect();
    };

    it('creates and configures the topics (Direct) and resets the consumer group', async () => {
      const events = randomTopic('acl.events');
      const group = randomGroup('acl-reset');
      const manifests = await render({ events, dlq: `${events}.dlq`, group });
      await grant(manifests);
      const { pipeline, target } = await operatorTarget(manifests, USERS.operator);
      const topics = new DirectTopicAdmin(privateAdmin(target));
      const groups = new ConsumerGroupAdmin(privateAdmin(target));
      closers.push(
        () => topics.close(),
        () => groups.close(),
      );

      for (const topic of pipeline.spec.topics) await topics.ensureTopic({ ...topic, replicas: 1 });
      // A second pass finds them in place and grows the event topic.
      const eventsSpec = pipeline.spec.topics[0]!;
      const grown = await topics.ensureTopic({
        ...eventsSpec,
        replicas: 1,
        partitions: eventsSpec.partitions + 1,
      });
      expect(grown).toMatchObject({ partitions: eventsSpec.partitions + 1 });

      await groupAtEnd(events, group);
      expect((await groups.describe(group, [events])).lag).toBe(0);
      const plan = await groups.plan(group, [events], { earliest: true });
      await groups.commit(group, plan);
      expect((await consumerGroupsCommitted(kafka.brokers, group, events))[0]).toBe('0');
    });

    it('without Read on the topic a reset fails by its deadline, naming what the write needs, and writes nothing', async () => {
      const events = randomTopic('acl.noread');
      const group = randomGroup('acl-noread');
      const manifests = await render({ events, dlq: `${events}.dlq`, group });
      const [operatorUser] = byKind<KafkaUser>(manifests, 'KafkaUser').filter(
        (u) => componentOf(u) === 'operator',
      );
      // The operator's rules without any Read: what a hand-made user too narrow for resets has.
      const withoutRead = operatorUser!.spec.authorization.acls
        .map((acl) => ({ ...acl, operations: acl.operations.filter((o) => o !== 'Read') }))
        .filter((acl) => acl.operations.length > 0);
      await addKafkaUserAcls(kafka, 'operator', withoutRead);
      const { pipeline, target } = await operatorTarget(manifests, 'operator');
      const topics = new DirectTopicAdmin(privateAdmin(target));
      const groups = new ConsumerGroupAdmin(privateAdmin(target), 5_000);
      closers.push(
        () => topics.close(),
        () => groups.close(),
      );
      await topics.ensureTopic({ ...pipeline.spec.topics[0]!, replicas: 1 });
      await groupAtEnd(events, group);

      const plan = await groups.plan(group, [events], { earliest: true });
      // kafkajs's own offset write would wait for ever here: its group join is refused out of sight.
      await expect(groups.commit(group, plan)).rejects.toThrow(
        `writing offsets of group ${group} failed: writing offsets of group ${group} on ${events} did not finish within 5000 ms: Kafka may be refusing the group join the write needs (Read on group ${group} and on topic ${events})`,
      );
      expect((await consumerGroupsCommitted(kafka.brokers, group, events))[0]).toBe('2');
    });
  });

  it("without its KafkaUser rules a component is refused: the relay with the consumer's user", async () => {
    const f = await relayFixture({ partitions: 1, brokers: kafka.brokers });
    closers.push(() => f.close());
    const manifests = await render({ events: f.topic, dlq: `${f.topic}.dlq`, group: randomGroup('acl') });
    await grant(manifests);
    await seedOutbox(f.sql, { topic: f.topic, products: 1, eventsPerProduct: 1 });
    const env = kafkaEnvOf(manifests, 'relay', kafka);
    const relay = await f.startRelay({
      ...env,
      KAFKA_SASL_USERNAME: USERS.consumer,
      KAFKA_SASL_PASSWORD: kafka.passwords[USERS.consumer]!,
    });
    await waitFor(() => /not authorized/i.test(relay.output()), {
      description: 'the relay to log that Kafka refused it',
      timeoutMs: 30_000,
    });
    // The environment's fault (DESIGN §4): the row stays pending, no attempt counted.
    expect(await f.statusCounts()).toEqual({ PENDING: 1 });
    const { rows } = await f.sql.query<{ attempts: number }>('select attempts from outbox_event');
    expect(rows).toEqual([{ attempts: 0 }]);
  });
});
