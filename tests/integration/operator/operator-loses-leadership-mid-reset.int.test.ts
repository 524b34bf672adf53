import { AppsV1Api, CoordinationV1Api, CoreV1Api } from '@kubernetes/client-node';
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
  waitFor,
} from '../../harness/index.js';
import { createDeployment, deploymentOf, pipelines, startOperator } from './operator-fixture.js';
import type { OperatorProcess } from './operator-fixture.js';

const LEASE = 'shopstream-operator';
const RECORDS_PER_PARTITION = 10;
const SHIFT = -4;

/**
 * DESIGN §9 "operator loses leadership mid-reset": the new leader resumes from the stored state,
 * the old one exits, never two leaders writing, never a reset applied twice. Two real operator
 * processes, the real API server and Kafka; the leader is frozen with SIGSTOP (a GC pause, a
 * throttled container) rather than killed, so it comes back believing it still leads.
 */
describe('operator loses leadership mid-reset', () => {
  const kc = kubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const leases = kc.makeApiClient(CoordinationV1Api);
  const namespace = randomNamespace('leader-loss');
  const topic = randomTopic('product.events');
  const group = randomGroup('shifted');
  const brokers = infraEnv().kafkaBrokers;
  const kafka = new Kafka({ clientId: 'leader-loss-test', brokers: [brokers], logLevel: logLevel.NOTHING });
  const pp = pipelines(kc, namespace);
  const operators: Record<string, OperatorProcess> = {};
  let member: Consumer | undefined;

  const committed = () => consumerGroupsCommitted(brokers, group, topic);
  const consumerStatus = async (): Promise<ConsumerStatus | undefined> =>
    (await pp.get('shop')).status?.consumers?.find((c) => c.groupId === group);
  const lease = () => leases.readNamespacedLease({ name: LEASE, namespace });
  const resourceVersions = async () => ({
    pipeline: (await pp.get('shop')).metadata.resourceVersion,
    deployment: (await apps.readNamespacedDeployment({ namespace, name: 'consumer' })).metadata
      ?.resourceVersion,
    lease: (await lease()).metadata?.resourceVersion,
  });

  beforeAll(async () => {
    await installPipelineCrd(kc);
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
    const producer = fixtureProducer(kafka);
    await producer.connect();
    await producer.send({
      topic,
      messages: [0, 1, 2].flatMap((partition) =>
        Array.from({ length: RECORDS_PER_PARTITION }, (_, i) => ({ partition, value: `${partition}-${i}` })),
      ),
    });
    await producer.disconnect();
    await admin.setOffsets({
      groupId: group,
      topic,
      partitions: [0, 1, 2].map((partition) => ({ partition, offset: String(RECORDS_PER_PARTITION) })),
    });
    await admin.disconnect();
    await createDeployment(kc, namespace, 'consumer', 1);

    // A live member keeps the group Stable: the reset has to wait for it, and the leader is frozen
    // while it waits.
    member = kafka.consumer({ groupId: group, sessionTimeout: 10_000 });
    const joined = new Promise<void>((resolve) => member!.on(member!.events.GROUP_JOIN, () => resolve()));
    await member.connect();
    await member.subscribe({ topic });
    await member.run({ autoCommit: false, eachMessage: async () => undefined });
    await joined;
  });
  afterAll(async () => {
    await member?.disconnect().catch(() => undefined);
    for (const p of Object.values(operators)) {
      p.child.kill('SIGCONT');
      p.child.kill('SIGKILL');
    }
    await Promise.all(Object.values(operators).map((p) => p.exited));
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteGroups([group]).catch(() => undefined);
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });

  it('the new leader finishes the reset from the stored state; the frozen old leader, resumed, exits without writing; the shiftBy applies once', async () => {
    expect(await committed()).toEqual({ 0: '10', 1: '10', 2: '10' });
    operators['op-a'] = await startOperator(namespace, 'op-a');
    await waitFor(async () => (await lease()).spec?.holderIdentity === 'op-a', {
      description: 'op-a to lead',
      timeoutMs: 30_000,
    });
    operators['op-b'] = await startOperator(namespace, 'op-b');
    await pp.create('shop', {
      kafka: { bootstrapServers: brokers, topicManagement: 'Direct' },
      topics: [{ name: topic, partitions: 3 }],
      consumers: [
        {
          groupId: group,
          deploymentRef: { name: 'consumer' },
          topics: [topic],
          offsetReset: { requestId: 'shift-1', to: { shiftBy: SHIFT }, mode: 'Execute', timeoutSeconds: 600 },
        },
      ],
    });
    // ScalingDown is stored before the hold (the hold is recorded first): wait for the waiting itself.
    await waitFor(
      async () => /waiting for group/.test((await consumerStatus())?.resetInProgress?.lastError ?? ''),
      {
        description: 'op-a to hold the consumers at 0 and wait for the group',
        timeoutMs: 60_000,
      },
    );
    const held = await deploymentOf(kc, namespace, 'consumer');
    expect(held.replicas).toBe(0);
    // The hold is recorded in the status only, nothing of the operator's on the Deployment.
    expect(Object.keys(held.annotations).filter((k) => k.startsWith('shopstream.io/'))).toEqual([]);
    expect((await consumerStatus())?.heldForReset).toEqual({
      requestId: 'shift-1',
      deployment: 'consumer',
      replicas: 1,
    });

    const a = operators['op-a'];
    a.child.kill('SIGSTOP');
    await member!.disconnect(); // the group is Empty now: whoever leads can write the offsets
    member = undefined;

    await waitFor(async () => (await lease()).spec?.holderIdentity === 'op-b', {
      description: 'op-b to take the lease of the frozen op-a',
      timeoutMs: 60_000,
    });
    const done = await waitFor(
      async () => {
        const s = await consumerStatus();
        return s?.lastReset?.requestId === 'shift-1' ? s : undefined;
      },
      { description: 'op-b to finish shift-1', timeoutMs: 60_000 },
    );
    await waitFor(
      async () =>
        (await deploymentOf(kc, namespace, 'consumer')).replicas === 1 &&
        !(await consumerStatus())?.heldForReset,
      { description: 'op-b to restore the consumer Deployment', timeoutMs: 30_000 },
    );
    const shifted = { 0: '6', 1: '6', 2: '6' };
    expect(await committed()).toEqual(shifted);
    expect(done.resetInProgress ?? undefined).toBeUndefined();
    expect(done.lastReset?.partitions.map((p) => [p.oldOffset, p.newOffset])).toEqual([
      ['10', '6'],
      ['10', '6'],
      ['10', '6'],
    ]);

    // Freeze the new leader too, so that anything written from here on can only be op-a's.
    const b = operators['op-b'];
    b.child.kill('SIGSTOP');
    await new Promise((r) => setTimeout(r, 500)); // a request op-b had already sent lands first
    const before = await resourceVersions();
    const resumedAt = a.output().length;
    a.child.kill('SIGCONT');
    let timer: NodeJS.Timeout | undefined;
    const exit = await Promise.race([
      a.exited,
      new Promise((r) => (timer = setTimeout(() => r('still running 30 s after SIGCONT'), 30_000))),
    ]);
    clearTimeout(timer);
    expect(exit).toBe(1);
    const resumed = a.output().slice(resumedAt);
    expect(resumed).toContain('"msg":"lost leadership: exiting so that no reconcile in flight writes"');
    expect(resumed).not.toContain('"msg":"pipeline reconciled"');
    expect(await resourceVersions()).toEqual(before);
    expect(await committed()).toEqual(shifted);
    const history = (await consumerStatus())?.resetHistory ?? [];
    expect(history.filter((h) => h.requestId === 'shift-1')).toEqual([
      expect.objectContaining({ mode: 'Execute', outcome: 'Succeeded' }),
    ]);
    b.child.kill('SIGCONT');
  });
});
