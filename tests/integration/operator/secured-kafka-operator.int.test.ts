import { setTimeout as sleep } from 'node:timers/promises';
import { readFile } from 'node:fs/promises';
import { CoreV1Api } from '@kubernetes/client-node';
import { Kafka, logLevel } from 'kafkajs';
import type { Admin } from 'kafkajs';
import type { ProductPipeline } from '@shopstream/operator';
import {
  addKafkaUserAcls,
  installPipelineCrd,
  kubeConfig,
  randomGroup,
  randomNamespace,
  randomTopic,
  startSecuredKafka,
  waitFor,
} from '../../harness/index.js';
import type { KafkaUserAcl, SecuredKafka } from '../../harness/index.js';
import { condition, createDeployment, deploymentOf, pipelines, startOperator } from './operator-fixture.js';
import type { OperatorProcess } from './operator-fixture.js';

/**
 * Issue 16 item 4: the operator's Kafka clients on a secured broker (SASL_SSL with SCRAM-SHA-512
 * users made by Kafka's StorageTool, an mTLS listener, a self-signed CA), with spec.kafka.tls and
 * spec.kafka.authentication pointing at Secrets shaped like Strimzi's (cluster CA `ca.crt`, a scram
 * KafkaUser's `password`, a tls KafkaUser's `user.crt`/`user.key`). Topics are created and an offset
 * reset runs; a wrong password is named in the condition without a retry storm (counted in the
 * broker's own log); a missing Secret is named. Test setup checks through the PLAINTEXT listener.
 */
describe('the operator on secured Kafka', () => {
  const kc = kubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const namespace = randomNamespace('secured');
  const pp = pipelines(kc, namespace);
  let kafka: SecuredKafka;
  let admin: Admin;
  let operator: OperatorProcess;

  const secret = (name: string, data: Record<string, string>) =>
    core.createNamespacedSecret({ namespace, body: { metadata: { name }, stringData: data } });
  const ready = (p: ProductPipeline) => condition(p, 'Ready');
  const saslSpec = (topic: string, passwordSecret: string, extra: object = {}) => ({
    kafka: {
      bootstrapServers: kafka.saslSsl,
      topicManagement: 'Direct',
      tls: { caSecretRef: { name: 'cluster-ca-cert' } },
      authentication: {
        type: 'scram-sha-512',
        username: 'operator',
        passwordSecretRef: { name: passwordSecret },
      },
    },
    topics: [{ name: topic, partitions: 3 }],
    ...extra,
  });

  beforeAll(async () => {
    // With Kafka's authorizer: SCRAM user operator and the mTLS client may do anything; user
    // api, standing in for an operator login too narrow for resets, everything but Read.
    kafka = await startSecuredKafka({ authorizer: true });
    const everything: KafkaUserAcl[] = [
      { resource: { type: 'topic', name: '*' }, operations: ['All'] },
      { resource: { type: 'group', name: '*' }, operations: ['All'] },
      { resource: { type: 'cluster' }, operations: ['All'] },
    ];
    await addKafkaUserAcls(kafka, 'operator', everything);
    await addKafkaUserAcls(kafka, 'CN=shopstream-client', everything);
    await addKafkaUserAcls(kafka, 'api', [
      {
        resource: { type: 'topic', name: '*' },
        operations: ['Create', 'Alter', 'AlterConfigs', 'Describe', 'DescribeConfigs'],
      },
      { resource: { type: 'group', name: '*' }, operations: ['Describe'] },
    ]);
    admin = new Kafka({ brokers: [kafka.brokers], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await installPipelineCrd(kc);
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    const ca = await readFile(kafka.files.ca, 'utf8');
    await secret('cluster-ca-cert', { 'ca.crt': ca });
    await secret('operator', { password: kafka.passwords.operator });
    await secret('operator-wrong', { password: 'not-the-password' });
    await secret('api', { password: kafka.passwords.api });
    await secret('operator-tls', {
      'user.crt': await readFile(kafka.files.clientCert, 'utf8'),
      'user.key': await readFile(kafka.files.clientKey, 'utf8'),
      'ca.crt': ca,
    });
    operator = await startOperator(namespace, 'op-secured');
  }, 120_000);
  afterAll(async () => {
    operator?.child.kill('SIGKILL');
    await operator?.exited;
    await admin?.disconnect();
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
    await kafka?.destroy();
  });

  it('SCRAM over TLS: creates the topics, then runs an offset reset that holds the consumers at 0', async () => {
    const topic = randomTopic('secured');
    const group = randomGroup('secured');
    await pp.create('scram', saslSpec(topic, 'operator'));
    const created = await waitFor(
      async () => {
        const p = await pp.get('scram');
        return ready(p)?.status === 'True' ? p : undefined;
      },
      { description: 'the pipeline Ready over SASL_SSL', timeoutMs: 30_000 },
    );
    expect(condition(created, 'TopicsReady')).toMatchObject({ status: 'True', reason: 'TopicsReady' });
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(meta.topics[0]!.partitions).toHaveLength(3);

    // A group that read everything (committed at the log ends) and has no members now.
    const producer = new Kafka({ brokers: [kafka.brokers], logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: Array.from({ length: 12 }, (_, i) => ({ key: `k${i}`, value: `v${i}`, partition: i % 3 })),
    });
    await producer.disconnect();
    const ends = await admin.fetchTopicOffsets(topic);
    await admin.setOffsets({
      groupId: group,
      topic,
      partitions: ends.map((e) => ({ partition: e.partition, offset: e.high })),
    });
    await createDeployment(kc, namespace, 'consumer', 2);

    await pp.patchSpec('scram', {
      consumers: [
        {
          groupId: group,
          deploymentRef: { name: 'consumer' },
          topics: [topic],
          offsetReset: { requestId: 'replay-1', to: { earliest: true }, mode: 'Execute' },
        },
      ],
    });
    const status = await waitFor(
      async () => {
        const c = (await pp.get('scram')).status?.consumers?.find((x) => x.groupId === group);
        return c?.lastReset?.requestId === 'replay-1' && !c.heldForReset ? c : undefined;
      },
      { description: 'the Execute reset done and the consumers given back', timeoutMs: 45_000 },
    );
    expect(status.lastReset).toMatchObject({ mode: 'Execute' });
    expect(status.resetHistory?.[0]).toMatchObject({ requestId: 'replay-1', outcome: 'Succeeded' });
    const [committed] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    expect(committed!.partitions.map((p) => p.offset).sort()).toEqual(['0', '0', '0']);
    expect((await deploymentOf(kc, namespace, 'consumer')).replicas).toBe(2);
  }, 90_000);

  it('a login Kafka lets describe the group but not commit to it: the reset fails at its deadline and the consumers are given back', async () => {
    const topic = randomTopic('noread');
    const group = randomGroup('noread');
    const spec = saslSpec(topic, 'api');
    await pp.create('noread', {
      ...spec,
      kafka: { ...spec.kafka, authentication: { ...spec.kafka.authentication, username: 'api' } },
    });
    await waitFor(async () => ready(await pp.get('noread'))?.status === 'True', {
      description: 'the pipeline Ready as user api',
      timeoutMs: 30_000,
    });
    await createDeployment(kc, namespace, 'noread-consumer', 2);
    await pp.patchSpec('noread', {
      consumers: [
        {
          groupId: group,
          deploymentRef: { name: 'noread-consumer' },
          topics: [topic],
          offsetReset: { requestId: 'noread-1', to: { earliest: true }, mode: 'Execute', timeoutSeconds: 20 },
        },
      ],
    });
    // The consumers are held at 0 while the reset writes; kafkajs's write joins the group, which
    // Kafka refuses out of its sight: before the commit deadline this never returned.
    await waitFor(async () => (await deploymentOf(kc, namespace, 'noread-consumer')).replicas === 0, {
      description: 'the consumers held at 0 for the reset',
      timeoutMs: 30_000,
    });
    const status = await waitFor(
      async () => {
        const c = (await pp.get('noread')).status?.consumers?.find((x) => x.groupId === group);
        return c?.resetHistory?.[0]?.requestId === 'noread-1' && !c.heldForReset ? c : undefined;
      },
      { description: 'the reset failed and the consumers given back', timeoutMs: 90_000 },
    );
    expect(status.resetHistory?.[0]).toMatchObject({ requestId: 'noread-1', outcome: 'Failed' });
    expect(status.resetHistory?.[0]?.message).toContain(
      `Kafka may be refusing the group join the write needs (Read on group ${group} and on topic ${topic})`,
    );
    expect((await deploymentOf(kc, namespace, 'noread-consumer')).replicas).toBe(2);
  }, 150_000);

  it('mTLS with a KafkaUser-shaped certificate Secret: creates the topics', async () => {
    const topic = randomTopic('mtls');
    await pp.create('mtls', {
      kafka: {
        bootstrapServers: kafka.mtls,
        topicManagement: 'Direct',
        tls: { caSecretRef: { name: 'cluster-ca-cert' } },
        authentication: { type: 'tls', certificateSecretRef: { name: 'operator-tls' } },
      },
      topics: [{ name: topic, partitions: 2 }],
    });
    await waitFor(async () => ready(await pp.get('mtls'))?.status === 'True', {
      description: 'the pipeline Ready over mTLS',
      timeoutMs: 30_000,
    });
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(meta.topics[0]!.partitions).toHaveLength(2);
  }, 45_000);

  /** The pipeline's Ready condition once it is False. */
  const readyFalse = (name: string, why: string) =>
    waitFor(
      async () => {
        const c = ready(await pp.get(name));
        return c?.status === 'False' ? c : undefined;
      },
      { description: `Ready=False for ${why}`, timeoutMs: 20_000 },
    );

  it('a wrong password: Ready=False/KafkaAuthenticationFailed naming the user, a handful of logins in 15 s', async () => {
    const topic = randomTopic('wrong');
    const before = await kafka.failedAuthentications('saslSsl');
    await pp.create('wrong', saslSpec(topic, 'operator-wrong'));
    const failed = await readyFalse('wrong', 'refused credentials');
    expect(failed.reason).toBe('KafkaAuthenticationFailed');
    expect(failed.message).toContain(
      `Kafka at ${kafka.saslSsl} refused the credentials (SASL SCRAM-SHA-512 authentication failed for user 'operator'): check spec.kafka.authentication.username and the password in secret ${namespace}/operator-wrong (key password)`,
    );
    expect(failed.message).not.toContain('not-the-password');
    await sleep(15_000);
    const refused = (await kafka.failedAuthentications('saslSsl')) - before;
    // The pool tries the same credentials again after 10 s, then 20 s, ... (the work queue's own
    // backoff starts at milliseconds): 2 here. Without that, 12 (measured).
    expect(refused).toBeGreaterThanOrEqual(1);
    expect(refused).toBeLessThanOrEqual(5);
    expect((await admin.listTopics()).includes(topic)).toBe(false);
  }, 60_000);

  it('a missing Secret: Ready=False/KafkaCredentialsMissing naming the Secret and the field', async () => {
    await pp.create('missing', saslSpec(randomTopic('missing'), 'no-such-user'));
    const failed = await readyFalse('missing', 'a missing Secret');
    expect(failed.reason).toBe('KafkaCredentialsMissing');
    expect(failed.message).toContain(
      `spec.kafka.authentication.passwordSecretRef: secret ${namespace}/no-such-user not found`,
    );
  }, 30_000);
});
