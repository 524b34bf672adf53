import { CoreV1Api } from '@kubernetes/client-node';
import type { ConsumerStatus, ProductPipeline } from '@shopstream/operator';
import {
  consumerGroupsCommitted,
  consumerGroupsDryRun,
  installPipelineCrd,
  kubeConfig,
  randomGroup,
  randomNamespace,
  waitFor,
} from '../../harness/index.js';
import { consumerFixture, metricValue, productEvents, readModels } from '../consumer/consumer-fixture.js';
import type { ConsumerFixture, ConsumerProcess } from '../consumer/consumer-fixture.js';
import {
  KubeletStandIn,
  condition,
  createDeployment,
  deploymentOf,
  pipelines,
  startOperator,
} from './operator-fixture.js';
import type { OperatorProcess } from './operator-fixture.js';

/**
 * Offset resets end to end: a real operator process, real consumer processes standing in for the
 * consumer Deployment's pods, Kafka's own kafka-consumer-groups to check what was written.
 */
describe('offset resets by the operator', () => {
  const kc = kubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const namespace = randomNamespace('reset');
  const replayGroup = randomGroup('replay');
  const pp = pipelines(kc, namespace);
  let f: ConsumerFixture;
  let kubelet: KubeletStandIn<ConsumerProcess>;
  let operator: OperatorProcess;
  let gap: Date; // between the two batches of events
  const total = 24; // versions 1..3 of 8 products
  const firstBatch = 16; // versions 1 and 2
  /** kafka-consumer-groups prints '-' for a partition the group never committed. */
  const sumOf = (offsets: Record<number, string>) =>
    Object.values(offsets).reduce((s, o) => s + (o === '-' ? 0 : Number(o)), 0);

  const committedByKafka = (group: string) => consumerGroupsCommitted(f.brokers, group, f.topic);
  const kafkaDryRun = (group: string, args: string[]) =>
    consumerGroupsDryRun(f.brokers, group, f.topic, args);
  const consumerStatus = async (group: string): Promise<ConsumerStatus | undefined> =>
    (await pp.get('shop')).status?.consumers?.find((c) => c.groupId === group);
  const mainConsumer = (offsetReset: object) => ({
    groupId: f.group,
    deploymentRef: { name: 'consumer' },
    topics: [f.topic],
    offsetReset,
  });
  const replayConsumer = (offsetReset?: object) => ({
    groupId: replayGroup,
    topics: [f.topic],
    ...(offsetReset ? { offsetReset } : {}),
  });
  const duplicates = async () => {
    let sum = 0;
    for (const c of kubelet.running)
      sum += metricValue(await c.metrics(), 'shopstream_consumer_events_total', { outcome: 'duplicate' });
    return sum;
  };
  /** Back at 2 replicas, and the hold's record (the status is the only one) cleared. */
  const released = async () =>
    (await deploymentOf(kc, namespace, 'consumer')).replicas === 2 &&
    !(await consumerStatus(f.group))?.heldForReset;

  beforeAll(async () => {
    await installPipelineCrd(kc);
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    f = await consumerFixture({ partitions: 3 });
    await createDeployment(kc, namespace, 'consumer', 2);
    kubelet = new KubeletStandIn(kc, namespace, 'consumer', () => f.startConsumer());
    kubelet.run();
    await kubelet.settled(2);
    const events = productEvents(8, 3, f.topic);
    await f.produce(events.slice(0, firstBatch));
    await new Promise((r) => setTimeout(r, 1500));
    gap = new Date(Date.now() - 750);
    await f.produce(events.slice(firstBatch));
    await waitFor(async () => (await readModels(f.sql)).inbox === total, {
      description: 'the consumers to apply every event',
    });
    // The replay group has committed everything and has no members.
    const admin = f.kafka.admin();
    await admin.connect();
    const ends = await admin.fetchTopicOffsets(f.topic);
    await admin.setOffsets({
      groupId: replayGroup,
      topic: f.topic,
      partitions: ends.map((e) => ({ partition: e.partition, offset: e.high })),
    });
    await admin.disconnect();
    await waitFor(
      async () => {
        const committed = await committedByKafka(f.group);
        if (sumOf(committed) !== total) throw new Error(`committed: ${JSON.stringify(committed)}`);
        return true;
      },
      { description: 'the consumer group to commit every offset' },
    );
  });
  afterAll(async () => {
    await kubelet?.stop();
    operator?.child.kill('SIGKILL');
    await operator?.exited;
    await f?.close();
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
  });

  it('DryRun writes the exact plan into the status and moves nothing; group state and lag are reported', async () => {
    const before = await committedByKafka(f.group);
    await pp.create('shop', {
      kafka: { bootstrapServers: f.brokers, topicManagement: 'Direct' },
      topics: [{ name: f.topic, partitions: 3 }],
      consumers: [mainConsumer({ requestId: 'replay-1', to: { earliest: true } }), replayConsumer()],
    });
    operator = await startOperator(namespace, 'op-1');
    const status = await waitFor(
      async () => {
        const s = await consumerStatus(f.group);
        return s?.lastReset?.requestId === 'replay-1' ? s : undefined;
      },
      { description: 'the dry-run plan in the status', timeoutMs: 60_000 },
    );
    expect(status.lastReset).toMatchObject({ requestId: 'replay-1', mode: 'DryRun' });
    expect(status.lastReset!.partitions).toEqual(
      [0, 1, 2].map((partition) => ({
        topic: f.topic,
        partition,
        // A partition the group never committed has no oldOffset (a JSON merge patch drops nulls).
        ...(before[partition] === '-' ? {} : { oldOffset: before[partition] }),
        newOffset: '0',
      })),
    );
    expect(status).toMatchObject({ state: 'Stable', lag: 0, members: 2 });
    expect(await consumerStatus(replayGroup)).toMatchObject({ state: 'Empty', lag: 0 });
    expect(condition(await pp.get('shop'), 'OffsetResetSucceeded')).toMatchObject({
      status: 'True',
      reason: 'DryRunPlanned',
    });
    expect(await committedByKafka(f.group)).toEqual(before);
    expect(kubelet.observed).toEqual([2]);
    expect(status.heldForReset).toBeUndefined();
  });

  it('Execute scales the consumers to 0, waits for the group to empty, writes the offsets, restores the replicas; the events are re-processed as duplicates', async () => {
    const modelsBefore = await readModels(f.sql);
    await pp.patchSpec('shop', {
      consumers: [
        mainConsumer({ requestId: 'replay-1', to: { earliest: true }, mode: 'Execute' }),
        replayConsumer(),
      ],
    });
    const status = await waitFor(
      async () => {
        const s = await consumerStatus(f.group);
        return s?.lastReset?.mode === 'Execute' ? s : undefined;
      },
      { description: 'the reset to be executed', timeoutMs: 90_000 },
    );
    expect(status.lastReset!.partitions.map((p) => p.newOffset)).toEqual(['0', '0', '0']);
    await waitFor(released, { description: 'the consumer Deployment back at 2 replicas', timeoutMs: 30_000 });
    await kubelet.settled(2); // the stand-in polls on its own clock: let it see the restore too
    expect(kubelet.observed).toEqual([2, 0, 2]);
    // Every event comes again; the inbox turns each into a duplicate and the read model stays as it was.
    await waitFor(async () => (await duplicates()) === total, {
      description: 'the re-started consumers to see every event again as a duplicate',
      timeoutMs: 60_000,
    });
    expect(await readModels(f.sql)).toEqual(modelsBefore);
    const reasons = (await pp.events('shop')).map((e) => e.reason);
    const steps = ['ScalingDownConsumers', 'GroupEmpty', 'OffsetsWritten', 'ReplicasRestored'];
    expect(reasons.filter((r) => steps.includes(r!))).toEqual(steps);
    expect(condition(await pp.get('shop'), 'OffsetResetSucceeded')).toMatchObject({
      status: 'True',
      reason: 'OffsetsReset',
    });
  });

  it('the same requestId applied again does nothing; new ones run and land where Kafka’s tool puts them (shiftBy, datetime)', async () => {
    await pp.patchSpec('shop', {
      consumers: [
        mainConsumer({ requestId: 'replay-1', to: { earliest: true }, mode: 'Execute', timeoutSeconds: 120 }),
        replayConsumer(),
      ],
    });
    const generation = (await pp.get('shop')).metadata.generation;
    await waitFor(async () => (await pp.get('shop')).status?.observedGeneration === generation, {
      description: 'the unchanged request to be reconciled',
    });
    expect((await consumerStatus(f.group))!.resetHistory!.map((h) => [h.requestId, h.mode])).toEqual([
      ['replay-1', 'Execute'],
      ['replay-1', 'DryRun'],
    ]);
    expect(kubelet.observed).toEqual([2, 0, 2]);

    const expectedShift = await kafkaDryRun(replayGroup, ['--shift-by', '-2']);
    await pp.patchSpec('shop', {
      consumers: [
        mainConsumer({ requestId: 'replay-1', to: { earliest: true }, mode: 'Execute' }),
        replayConsumer({ requestId: 'shift-1', to: { shiftBy: -2 }, mode: 'Execute' }),
      ],
    });
    await waitFor(async () => (await consumerStatus(replayGroup))?.lastReset?.requestId === 'shift-1', {
      description: 'the shiftBy reset of the replay group',
      timeoutMs: 30_000,
    });
    expect(await committedByKafka(replayGroup)).toEqual(expectedShift);

    const expectedTime = await kafkaDryRun(replayGroup, [
      '--to-datetime',
      gap.toISOString().replace('Z', '+00:00'),
    ]);
    await pp.patchSpec('shop', {
      consumers: [
        mainConsumer({ requestId: 'replay-1', to: { earliest: true }, mode: 'Execute' }),
        replayConsumer({ requestId: 'time-1', to: { datetime: gap.toISOString() }, mode: 'Execute' }),
      ],
    });
    await waitFor(async () => (await consumerStatus(replayGroup))?.lastReset?.requestId === 'time-1', {
      description: 'the datetime reset of the replay group',
      timeoutMs: 30_000,
    });
    const landed = await committedByKafka(replayGroup);
    expect(landed).toEqual(expectedTime);
    // The first batch is before the gap, the second after it.
    expect(sumOf(landed)).toBe(firstBatch);
    expect(kubelet.observed).toEqual([2, 0, 2]); // the main group was never touched again
  });

  it('a new leader finishes a reset whose operator was SIGKILLed while the consumers were at 0, and restores them', async () => {
    kubelet.hold(true); // the "pods" are slow to terminate: the group stays Stable for now
    await pp.patchSpec('shop', {
      consumers: [
        mainConsumer({ requestId: 'replay-2', to: { earliest: true }, mode: 'Execute' }),
        replayConsumer(),
      ],
    });
    await waitFor(
      async () =>
        (await deploymentOf(kc, namespace, 'consumer')).replicas === 0 &&
        (await consumerStatus(f.group))?.heldForReset?.requestId === 'replay-2',
      { description: 'the consumer Deployment held at 0 for replay-2', timeoutMs: 30_000 },
    );
    // What the next leader restores from: the status alone (nothing of the operator's on the Deployment).
    expect((await consumerStatus(f.group))?.heldForReset).toEqual({
      requestId: 'replay-2',
      deployment: 'consumer',
      replicas: 2,
    });
    expect(
      Object.keys((await deploymentOf(kc, namespace, 'consumer')).annotations).filter((k) =>
        k.startsWith('shopstream.io/'),
      ),
    ).toEqual([]);
    await waitFor(async () => (await consumerStatus(f.group))?.resetInProgress?.phase === 'ScalingDown', {
      description: 'the procedure to be waiting for the group',
    });
    operator.child.kill('SIGKILL');
    await operator.exited;
    kubelet.hold(false);
    await kubelet.settled(0);
    operator = await startOperator(namespace, 'op-2');
    await waitFor(async () => (await consumerStatus(f.group))?.lastReset?.requestId === 'replay-2', {
      description: 'the new leader to finish replay-2',
      timeoutMs: 60_000,
    });
    await waitFor(released, { description: 'the consumer Deployment back at 2 replicas', timeoutMs: 30_000 });
    await kubelet.settled(2);
    await waitFor(async () => (await duplicates()) === total, {
      description: 'the events to be re-processed again',
      timeoutMs: 60_000,
    });
    expect(operator.output()).toContain('"msg":"started leading"');
  });

  it('gives up after timeoutSeconds when the group never empties: replicas restored, offsets unchanged, a clear condition', async () => {
    const before = await committedByKafka(f.group);
    kubelet.hold(true);
    await pp.patchSpec('shop', {
      consumers: [
        mainConsumer({ requestId: 'replay-3', to: { earliest: true }, mode: 'Execute', timeoutSeconds: 15 }),
        replayConsumer(),
      ],
    });
    const failed = await waitFor(
      async () => {
        const c = condition(await pp.get('shop'), 'OffsetResetSucceeded');
        return c?.status === 'False' ? c : undefined;
      },
      { description: 'OffsetResetSucceeded=False', timeoutMs: 30_000 },
    );
    expect(failed.reason).toBe('DeadlineExceeded');
    expect(failed.message).toMatch(/waiting for group .* to be Empty: Stable with 2 member\(s\)/);
    await waitFor(released, { description: 'the consumer Deployment back at 2 replicas', timeoutMs: 30_000 });
    kubelet.hold(false);
    await kubelet.settled(2);
    expect(await committedByKafka(f.group)).toEqual(before);
    const history = (await consumerStatus(f.group))!.resetHistory!;
    expect(history[0]).toMatchObject({ requestId: 'replay-3', mode: 'Execute', outcome: 'Failed' });
    expect(((await pp.get('shop')) as ProductPipeline).status?.consumers?.[0]?.lastReset?.requestId).toBe(
      'replay-2',
    );
  });
});
