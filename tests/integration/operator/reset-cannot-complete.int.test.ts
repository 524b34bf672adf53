import { CoreV1Api } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import { Kafka, logLevel } from 'kafkajs';
import type { Consumer } from 'kafkajs';
import type { ConsumerStatus } from '@shopstream/operator';
import {
  consumerGroupsCommitted,
  fixtureProducer,
  infraEnv,
  installPipelineCrd,
  kubeConfig,
  randomGroup,
  randomNamespace,
  randomTopic,
  startPrivateKafka,
  waitFor,
} from '../../harness/index.js';
import { condition, createDeployment, deploymentOf, pipelines, startOperator } from './operator-fixture.js';
import type { OperatorProcess } from './operator-fixture.js';

/** Pods of the Deployment that are Ready and not terminating: what the fake nodes run for it. */
async function readyPods(kc: KubeConfig, namespace: string, app: string): Promise<number> {
  const pods = await kc
    .makeApiClient(CoreV1Api)
    .listNamespacedPod({ namespace, labelSelector: `app=${app}` });
  return pods.items.filter(
    (p) =>
      !p.metadata?.deletionTimestamp &&
      p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
  ).length;
}

/** A topic with a few records and a group that committed all of them: a group to reset. */
async function topicWithGroup(brokers: string) {
  const kafka = new Kafka({ clientId: 'reset-test', brokers: [brokers], logLevel: logLevel.NOTHING });
  const [topic, group] = [randomTopic('reset'), randomGroup('reset')];
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [{ topic, numPartitions: 2, replicationFactor: 1 }],
    waitForLeaders: true,
  });
  const producer = fixtureProducer(kafka);
  await producer.connect();
  await producer.send({
    topic,
    acks: -1,
    messages: [0, 1, 2, 3].map((i) => ({ partition: i % 2, value: `m${i}` })),
  });
  await producer.disconnect();
  await admin.setOffsets({
    groupId: group,
    topic,
    partitions: [
      { partition: 0, offset: '2' },
      { partition: 1, offset: '2' },
    ],
  });
  await admin.disconnect();
  /** A member that keeps the group non-empty until it is disconnected (a pod slow to stop). */
  const member = async (): Promise<Consumer> => {
    const consumer = kafka.consumer({
      groupId: group,
      sessionTimeout: 10_000,
      heartbeatInterval: 500,
      // When its Kafka is stopped, kafkajs would restart a crashed consumer on a timer that a
      // disconnect() does not cancel: the restarted one then retries a destroyed broker forever and
      // holds Jest's process open after the last test (what kept a CI run until its time limit).
      retry: { restartOnFailure: async () => false },
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic] });
    await consumer.run({ eachMessage: async () => undefined });
    return consumer;
  };
  return { kafka, topic, group, member };
}

/**
 * DESIGN §9 "reset cannot complete (bad topic, ACL, Kafka down)": the reset is refused before
 * anything is scaled, or is `Failed` after its one deadline with the replicas restored — never a
 * consumer left at 0, whatever is removed from the spec. Real operator process, real Kafka, real
 * control plane: the consumer Deployment's replicas are observed as Pods on the fake nodes.
 */
describe('reset cannot complete: Failed after its deadline, replicas restored', () => {
  const kc = kubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const namespace = randomNamespace('reset-fail');
  const pp = pipelines(kc, namespace);
  const brokers = infraEnv().kafkaBrokers;
  let operator: OperatorProcess;
  const members: Consumer[] = [];

  const consumerStatus = async (name: string, group: string): Promise<ConsumerStatus | undefined> =>
    (await pp.get(name)).status?.consumers?.find((c) => c.groupId === group);
  const podsAt = (deployment: string, n: number) =>
    waitFor(async () => (await readyPods(kc, namespace, deployment)) === n, {
      description: `${n} Ready pod(s) of ${deployment}`,
      timeoutMs: 60_000,
    });
  /** Waits until the reset holds `deployment` at 0 and waits for the group (a member keeps it non-empty). */
  const heldAndWaiting = async (name: string, group: string, deployment: string) => {
    await waitFor(
      async () => {
        const d = await deploymentOf(kc, namespace, deployment);
        const s = await consumerStatus(name, group);
        return d.replicas === 0 && s?.heldForReset ? true : undefined;
      },
      { description: `${deployment} held at 0 by the reset`, timeoutMs: 30_000 },
    );
    await podsAt(deployment, 0);
  };

  beforeAll(async () => {
    await installPipelineCrd(kc);
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    operator = await startOperator(namespace, 'op-reset-fail');
  });
  afterAll(async () => {
    await Promise.all(members.map((m) => m.disconnect().catch(() => undefined)));
    operator?.child.kill('SIGKILL');
    await operator?.exited;
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
  });

  it('an Execute naming a topic that does not exist is refused before any scale-down', async () => {
    const { topic, group } = await topicWithGroup(brokers);
    await createDeployment(kc, namespace, 'missing-topic', 2);
    await podsAt('missing-topic', 2);
    const generation = (await deploymentOf(kc, namespace, 'missing-topic')).generation;
    await pp.create('missing-topic', {
      kafka: { bootstrapServers: brokers, topicManagement: 'Direct' },
      topics: [{ name: topic, partitions: 2 }],
      consumers: [
        {
          groupId: group,
          deploymentRef: { name: 'missing-topic' },
          topics: [topic, `${topic}.typo`],
          offsetReset: { requestId: 'typo-1', to: { earliest: true }, mode: 'Execute' },
        },
      ],
    });
    const refused = await waitFor(
      async () => {
        const c = condition(await pp.get('missing-topic'), 'OffsetResetSucceeded');
        return c?.status === 'False' ? c : undefined;
      },
      { description: 'OffsetResetSucceeded=False', timeoutMs: 30_000 },
    );
    expect(refused.reason).toBe('TopicNotFound');
    expect(refused.message).toContain(`${topic}.typo do not exist`);
    expect(refused.message).toContain('offsets unchanged');
    // Never scaled: spec.replicas was never written, the pods never went away.
    const d = await deploymentOf(kc, namespace, 'missing-topic');
    expect(d).toMatchObject({ replicas: 2, generation });
    expect(await readyPods(kc, namespace, 'missing-topic')).toBe(2);
    expect((await pp.events('missing-topic')).map((e) => e.reason)).not.toContain('ScalingDownConsumers');
    expect((await consumerStatus('missing-topic', group))?.resetHistory?.[0]).toMatchObject({
      requestId: 'typo-1',
      outcome: 'Failed',
      reason: 'TopicNotFound',
    });
    expect(await consumerGroupsCommitted(brokers, group, topic)).toEqual({ 0: '2', 1: '2' });
  });

  it('Kafka stops while the consumers are held: Failed at the deadline, the pods come back, offsets untouched', async () => {
    const kafka = await startPrivateKafka();
    try {
      const { topic, group, member } = await topicWithGroup(kafka.brokers);
      members.push(await member());
      await createDeployment(kc, namespace, 'kafka-down', 2);
      await podsAt('kafka-down', 2);
      await pp.create('kafka-down', {
        kafka: { bootstrapServers: kafka.brokers, topicManagement: 'Direct' },
        topics: [{ name: topic, partitions: 2 }],
        consumers: [
          {
            groupId: group,
            deploymentRef: { name: 'kafka-down' },
            topics: [topic],
            offsetReset: {
              requestId: 'outage-1',
              to: { earliest: true },
              mode: 'Execute',
              timeoutSeconds: 40,
            },
          },
        ],
      });
      await heldAndWaiting('kafka-down', group, 'kafka-down');
      await kafka.stop();

      const failed = await waitFor(
        async () => {
          const c = condition(await pp.get('kafka-down'), 'OffsetResetSucceeded');
          return c?.status === 'False' ? c : undefined;
        },
        { description: 'OffsetResetSucceeded=False after the deadline', timeoutMs: 90_000 },
      );
      expect(failed.reason).toBe('DeadlineExceeded');
      expect(failed.message).toMatch(/^reset outage-1: not finished within 40s \(ScalingDown: /);
      expect(failed.message).toMatch(/offsets unchanged; replicas restored$/);
      await podsAt('kafka-down', 2);
      const d = await deploymentOf(kc, namespace, 'kafka-down');
      expect(d.replicas).toBe(2);
      const status = await consumerStatus('kafka-down', group);
      expect(status?.heldForReset).toBeUndefined();
      expect(status?.resetInProgress ?? null).toBeNull();
      expect(status?.resetHistory?.[0]).toMatchObject({
        requestId: 'outage-1',
        outcome: 'Failed',
        partitionsWritten: [],
      });

      await kafka.start();
      expect(await consumerGroupsCommitted(kafka.brokers, group, topic)).toEqual({ 0: '2', 1: '2' });
    } finally {
      await Promise.all(members.splice(0).map((m) => m.disconnect().catch(() => undefined)));
      await kafka.destroy();
    }
  });

  it('a consumer entry removed mid-Execute, or the whole pipeline deleted, gives the replicas back', async () => {
    const { topic, group, member } = await topicWithGroup(brokers);
    members.push(await member());
    for (const name of ['removed-entry', 'deleted-pipeline']) {
      await createDeployment(kc, namespace, name, 2);
      await podsAt(name, 2);
      await pp.create(name, {
        kafka: { bootstrapServers: brokers, topicManagement: 'Direct' },
        topics: [{ name: topic, partitions: 2 }],
        consumers: [
          {
            groupId: group,
            deploymentRef: { name },
            topics: [topic],
            offsetReset: {
              requestId: `${name}-1`,
              to: { earliest: true },
              mode: 'Execute',
              timeoutSeconds: 600,
            },
          },
        ],
      });
      await heldAndWaiting(name, group, name);
    }

    await pp.patchSpec('removed-entry', { consumers: [] });
    await podsAt('removed-entry', 2);
    await waitFor(async () => !(await consumerStatus('removed-entry', group)), {
      description: 'the removed consumer to leave the status once restored',
    });

    await pp.delete('deleted-pipeline');
    await podsAt('deleted-pipeline', 2);
    await waitFor(async () => !(await pp.exists('deleted-pipeline')), {
      description: 'the pipeline to be gone',
    });
    expect((await deploymentOf(kc, namespace, 'deleted-pipeline')).replicas).toBe(2);
    // The member never left: the offsets were never written.
    expect(await consumerGroupsCommitted(brokers, group, topic)).toEqual({ 0: '2', 1: '2' });
  });
});
