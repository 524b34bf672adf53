import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { DirectTopicAdmin, createPipelineDeps, reconcilePipeline } from '@shopstream/operator';
import type { PipelineDeps, ProductPipeline } from '@shopstream/operator';
import {
  KafkaTool,
  infraEnv,
  installPipelineCrd,
  kubeConfig,
  randomNamespace,
  randomTopic,
  runKafkaTool,
} from '../../harness/index.js';

const group = 'shopstream.io';
const version = 'v1alpha1';
const plural = 'productpipelines';

describe('reconcilePipeline in Direct mode (real kube-apiserver, real Kafka)', () => {
  const kc = kubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const namespace = randomNamespace('topics');
  const [events, audit] = [randomTopic('product.events'), randomTopic('audit')];
  const brokers = infraEnv().kafkaBrokers;
  const runtime = createPipelineDeps(kc);
  const deps: PipelineDeps = {
    ...runtime.deps,
    topics: (p) => new DirectTopicAdmin(p.spec.kafka.bootstrapServers),
  };
  const read = async () =>
    (await custom.getNamespacedCustomObject({
      group,
      version,
      namespace,
      plural,
      name: 'local',
    })) as ProductPipeline & {
      metadata: { resourceVersion: string };
    };
  /** Reconciles until the controller stops asking for an immediate requeue (the finalizer goes on first). */
  const reconcile = async (d: PipelineDeps = deps) => {
    for (let i = 0; i < 5; i++) {
      const result = await reconcilePipeline(`${namespace}/local`, d);
      if (result.requeueAfterMs !== 0) return result;
    }
    throw new Error('reconcile kept asking for an immediate requeue');
  };
  const describe = (topic: string) =>
    runKafkaTool(KafkaTool.topics, ['--bootstrap-server', brokers, '--describe', '--topic', topic]);

  beforeAll(async () => {
    await installPipelineCrd(kc);
    await core.createNamespace({ body: { metadata: { name: namespace } } });
  });
  afterAll(async () => {
    await runtime.close();
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
    const admin = new DirectTopicAdmin(brokers);
    await admin.deleteTopic(events).catch(() => undefined);
    await admin.deleteTopic(audit).catch(() => undefined);
    await admin.close();
  });

  it('creates the topics with their partitions and configs, and a second reconcile changes nothing', async () => {
    await custom.createNamespacedCustomObject({
      group,
      version,
      namespace,
      plural,
      body: {
        apiVersion: `${group}/${version}`,
        kind: 'ProductPipeline',
        metadata: { name: 'local' },
        spec: {
          kafka: { bootstrapServers: brokers, topicManagement: 'Direct' },
          topics: [
            { name: events, partitions: 3, config: { 'retention.ms': '604800000' } },
            { name: audit, partitions: 1, deletionPolicy: 'Delete' },
          ],
        },
      },
    });
    expect(await reconcile()).toEqual({ requeueAfterMs: 300_000 });

    expect(await describe(events)).toMatch(
      /PartitionCount: 3\s+ReplicationFactor: 1\s+Configs: .*retention\.ms=604800000/,
    );
    expect(await describe(audit)).toMatch(/PartitionCount: 1/);
    const first = await read();
    expect(first.status).toMatchObject({
      observedGeneration: 1,
      topics: [
        { name: events, ready: true, partitions: 3 },
        { name: audit, ready: true, partitions: 1 },
      ],
    });
    expect(first.status?.conditions?.map((c) => [c.type, c.status, c.reason, c.observedGeneration])).toEqual([
      ['Ready', 'True', 'Reconciled', 1],
      ['TopicsReady', 'True', 'TopicsReady', 1],
    ]);

    expect(first.metadata.finalizers).toEqual(['shopstream.io/finalizer']);
    await reconcile();
    expect((await read()).metadata.resourceVersion).toBe(first.metadata.resourceVersion);
  });

  it('applies a partition increase and tracks the new generation', async () => {
    await custom.patchNamespacedCustomObject({
      group,
      version,
      namespace,
      plural,
      name: 'local',
      body: [{ op: 'replace', path: '/spec/topics/0/partitions', value: 5 }],
    });
    await reconcile();
    expect(await describe(events)).toMatch(/PartitionCount: 5/);
    const after = await read();
    expect(after.status?.observedGeneration).toBe(2);
    expect(after.status?.conditions?.every((c) => c.observedGeneration === 2)).toBe(true);
  });

  it('says why in Ready=False when Kafka is unreachable, and rethrows for a retry', async () => {
    // Without the leader's memory (a new leader), so the topics step runs although the spec did not
    // change: between spec changes a poll would not touch the topics at all.
    const unreachable: PipelineDeps = {
      ...deps,
      memory: undefined,
      topics: () => new DirectTopicAdmin('127.0.0.1:1'),
    };
    await expect(reconcile(unreachable)).rejects.toThrow();
    const ready = (await read()).status?.conditions?.find((c) => c.type === 'Ready');
    expect(ready).toMatchObject({ status: 'False', reason: 'KafkaUnavailable' });
    await reconcile(); // and back
    expect((await read()).status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');

    // Each transition left an Event on the pipeline.
    const events = await core.listNamespacedEvent({ namespace, fieldSelector: 'involvedObject.name=local' });
    const seen = events.items.map((e) => `${e.type}/${e.reason}`);
    expect(seen).toEqual(expect.arrayContaining(['Normal/Reconciled', 'Warning/KafkaUnavailable']));
  });

  it('does nothing but say so while the pause annotation is set', async () => {
    const annotate = (value: string | null) =>
      custom.patchNamespacedCustomObject(
        {
          group,
          version,
          namespace,
          plural,
          name: 'local',
          body: { metadata: { annotations: { 'shopstream.io/paused': value } } },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    await annotate('true');
    await custom.patchNamespacedCustomObject({
      group,
      version,
      namespace,
      plural,
      name: 'local',
      body: [{ op: 'replace', path: '/spec/topics/0/partitions', value: 6 }],
    });
    await reconcile();
    expect(await describe(events)).toMatch(/PartitionCount: 5/);
    const paused = await read();
    // Generation 3 was not acted on: observedGeneration stays 2, Ready keeps what it said.
    expect(paused.metadata.generation).toBe(3);
    expect(paused.status?.observedGeneration).toBe(2);
    expect(paused.status?.conditions?.find((c) => c.type === 'Paused')).toMatchObject({
      status: 'True',
      reason: 'PauseAnnotation',
    });
    expect(paused.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'True',
      observedGeneration: 2,
    });
    await annotate(null);
    await reconcile();
    expect(await describe(events)).toMatch(/PartitionCount: 6/);
    const resumed = await read();
    expect(resumed.status?.observedGeneration).toBe(3);
    expect(resumed.status?.conditions?.map((c) => c.type)).not.toContain('Paused');
  });

  it('on delete, removes the topics whose policy is Delete, keeps the Retain ones, and releases the object', async () => {
    await custom.deleteNamespacedCustomObject({ group, version, namespace, plural, name: 'local' });
    expect((await read()).metadata.deletionTimestamp).toBeDefined(); // held by our finalizer
    await reconcile();
    await expect(read()).rejects.toThrow(); // gone
    const listed = (await runKafkaTool(KafkaTool.topics, ['--bootstrap-server', brokers, '--list'])).split(
      '\n',
    );
    expect(listed).not.toContain(audit);
    expect(listed).toContain(events); // Retain
  });
});
