import { CoreV1Api, CustomObjectsApi, KubernetesObjectApi, PatchStrategy } from '@kubernetes/client-node';
import type { KubernetesObject } from '@kubernetes/client-node';
import { createPipelineDeps, reconcilePipeline } from '@shopstream/operator';
import type { PipelineDeps, ProductPipeline } from '@shopstream/operator';
import { installFixtureCrd, installPipelineCrd, kubeConfig, randomNamespace } from '../../harness/index.js';

const group = 'shopstream.io';
const version = 'v1alpha1';
const plural = 'productpipelines';

interface KafkaTopic {
  metadata: {
    name: string;
    resourceVersion: string;
    labels: Record<string, string>;
    uid: string;
    annotations?: Record<string, string>;
    ownerReferences?: { kind: string; name: string; uid: string; controller: boolean }[];
    managedFields?: { manager: string; apiVersion: string }[];
  };
  spec: { topicName: string; partitions: number; replicas?: number; config: Record<string, string> };
}

describe('reconcilePipeline in Strimzi mode (real kube-apiserver, KafkaTopic fixture CRD: v1 only, as Strimzi 1.x)', () => {
  const kc = kubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const namespace = randomNamespace('strimzi');
  const runtime = createPipelineDeps(kc);
  const deps: PipelineDeps = runtime.deps;
  const reconcile = async (name = 'shop') => {
    for (let i = 0; i < 5; i++) {
      const result = await reconcilePipeline(`${namespace}/${name}`, deps);
      if (result.requeueAfterMs !== 0) return result;
    }
    throw new Error('reconcile kept asking for an immediate requeue');
  };
  const kafkaTopic = async (name: string) =>
    (await custom.getNamespacedCustomObject({
      group: 'kafka.strimzi.io',
      version: 'v1',
      namespace,
      plural: 'kafkatopics',
      name,
    })) as KafkaTopic;
  const pipeline = async (name = 'shop') =>
    (await custom.getNamespacedCustomObject({
      group,
      version,
      namespace,
      plural,
      name,
    })) as ProductPipeline;
  const kafkaTopicNames = async () =>
    (
      (await custom.listNamespacedCustomObject({
        group: 'kafka.strimzi.io',
        version: 'v1',
        namespace,
        plural: 'kafkatopics',
      })) as { items: KafkaTopic[] }
    ).items
      .map((t) => t.metadata.name)
      .sort();

  beforeAll(async () => {
    await installPipelineCrd(kc);
    await installFixtureCrd(kc, 'kafkatopics.kafka.strimzi.io.yaml');
    await core.createNamespace({ body: { metadata: { name: namespace } } });
  });
  afterAll(async () => {
    await runtime.close();
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
  });

  it('server-side applies one KafkaTopic per topic with the right spec and labels and no owner; a second reconcile changes nothing', async () => {
    await custom.createNamespacedCustomObject({
      group,
      version,
      namespace,
      plural,
      body: {
        apiVersion: `${group}/${version}`,
        kind: 'ProductPipeline',
        metadata: { name: 'shop' },
        spec: {
          kafka: {
            clusterRef: { name: 'shop-kafka' },
            bootstrapServers: 'shop-kafka-kafka-bootstrap:9092',
            topicManagement: 'Strimzi',
          },
          topics: [
            { name: 'product.events', partitions: 6, replicas: 3, config: { 'retention.ms': '604800000' } },
            { name: 'Product_Audit', partitions: 1 },
          ],
        },
      },
    });
    await reconcile();
    const uid = (await pipeline()).metadata.uid;
    const events = await kafkaTopic('product.events');
    expect(events.spec).toEqual({
      topicName: 'product.events',
      partitions: 6,
      replicas: 3,
      config: { 'retention.ms': '604800000' },
    });
    expect(events.metadata.labels).toEqual({
      'strimzi.io/cluster': 'shop-kafka',
      'app.kubernetes.io/managed-by': 'shopstream-operator',
      'shopstream.io/pipeline-uid': uid,
    });
    expect(events.metadata.annotations).toEqual({ 'shopstream.io/pipeline': `${namespace}/shop` });
    // An ownerReference would let the garbage collector delete a Retain topic with its pipeline.
    expect(events.metadata.ownerReferences).toBeUndefined();
    // Applied as v1, the one version Strimzi 1.x (and the fixture CRD) serves.
    expect(
      events.metadata.managedFields
        ?.filter((f) => f.manager === 'shopstream-operator')
        .map((f) => f.apiVersion),
    ).toEqual(['kafka.strimzi.io/v1']);
    const audit = await kafkaTopic('product-audit'); // a Kubernetes name for a topic name Kubernetes would refuse
    expect(audit.spec.topicName).toBe('Product_Audit');
    // replicas unset in the pipeline: left out, so Strimzi applies the cluster's default.
    expect(audit.spec).not.toHaveProperty('replicas');

    // Not ready until Strimzi says so.
    let status = (await pipeline()).status;
    expect(status?.conditions?.find((c) => c.type === 'TopicsReady')?.status).toBe('False');

    const versions = [events.metadata.resourceVersion, audit.metadata.resourceVersion];
    await reconcile();
    expect([
      (await kafkaTopic('product.events')).metadata.resourceVersion,
      (await kafkaTopic('product-audit')).metadata.resourceVersion,
    ]).toEqual(versions);

    // Strimzi's topic operator reports Ready: the pipeline mirrors it.
    for (const name of ['product.events', 'product-audit']) {
      const kt = (await custom.getNamespacedCustomObject({
        group: 'kafka.strimzi.io',
        version: 'v1',
        namespace,
        plural: 'kafkatopics',
        name,
      })) as { metadata: { generation: number } };
      await custom.patchNamespacedCustomObjectStatus({
        group: 'kafka.strimzi.io',
        version: 'v1',
        namespace,
        plural: 'kafkatopics',
        name,
        body: [
          {
            op: 'add',
            path: '/status',
            value: {
              observedGeneration: kt.metadata.generation,
              topicId: `id-${name}`,
              conditions: [{ type: 'Ready', status: 'True' }],
            },
          },
        ],
      });
    }
    await reconcile();
    status = (await pipeline()).status;
    expect(status?.conditions?.find((c) => c.type === 'TopicsReady')?.status).toBe('True');
    expect(status?.topics).toEqual([
      { name: 'product.events', ready: true, partitions: 6, topicId: 'id-product.events' },
      { name: 'Product_Audit', ready: true, partitions: 1, topicId: 'id-product-audit' },
    ]);
  });

  it('drops the ownerReference an earlier version applied; deleting the pipeline deletes the Delete topic and releases the others', async () => {
    const strimzi = {
      clusterRef: { name: 'shop-kafka' },
      bootstrapServers: 'x:9092',
      topicManagement: 'Strimzi',
    };
    await custom.createNamespacedCustomObject({
      group,
      version,
      namespace,
      plural,
      body: {
        apiVersion: `${group}/${version}`,
        kind: 'ProductPipeline',
        metadata: { name: 'upgraded' },
        spec: {
          kafka: strimzi,
          topics: [
            { name: 'kept.events', partitions: 1, deletionPolicy: 'Retain' },
            { name: 'doomed.events', partitions: 1, deletionPolicy: 'Delete' },
          ],
        },
      },
    });
    const uid = (await pipeline('upgraded')).metadata.uid!;
    // What the operator applied before this change: a controller ownerReference and a name label,
    // applied with the same field manager; 'dropped.events' has since left the spec.
    for (const topicName of ['kept.events', 'doomed.events', 'dropped.events'])
      await KubernetesObjectApi.makeApiClient(kc).patch(
        {
          apiVersion: 'kafka.strimzi.io/v1',
          kind: 'KafkaTopic',
          metadata: {
            name: topicName,
            namespace,
            labels: {
              'strimzi.io/cluster': 'shop-kafka',
              'app.kubernetes.io/managed-by': 'shopstream-operator',
              'shopstream.io/pipeline': `${namespace}.upgraded`,
            },
            ownerReferences: [
              {
                apiVersion: `${group}/${version}`,
                kind: 'ProductPipeline',
                name: 'upgraded',
                uid,
                controller: true,
                blockOwnerDeletion: true,
              },
            ],
          },
          spec: { topicName, partitions: 1, replicas: 1, config: {} },
        } as KubernetesObject,
        undefined,
        undefined,
        'shopstream-operator',
        true,
        PatchStrategy.ServerSideApply,
      );

    await reconcile('upgraded');
    for (const name of ['kept.events', 'doomed.events']) {
      const kt = await kafkaTopic(name);
      // The API server removes a field its manager stops applying: verified here, not assumed.
      expect(kt.metadata.ownerReferences).toBeUndefined();
      expect(kt.metadata.labels).toEqual({
        'strimzi.io/cluster': 'shop-kafka',
        'app.kubernetes.io/managed-by': 'shopstream-operator',
        'shopstream.io/pipeline-uid': uid,
      });
    }
    // Not in the spec, so not applied: it keeps its ownerReference until the finalizer.
    expect((await kafkaTopic('dropped.events')).metadata.ownerReferences).toHaveLength(1);
    const versions = await Promise.all(
      ['kept.events', 'doomed.events'].map(async (n) => (await kafkaTopic(n)).metadata.resourceVersion),
    );
    await reconcile('upgraded');
    expect(
      await Promise.all(
        ['kept.events', 'doomed.events'].map(async (n) => (await kafkaTopic(n)).metadata.resourceVersion),
      ),
    ).toEqual(versions);

    // Only the Delete topic goes: the first test's pipeline keeps its KafkaTopics here too.
    const before = await kafkaTopicNames();
    await custom.deleteNamespacedCustomObject({ group, version, namespace, plural, name: 'upgraded' });
    await reconcile('upgraded');
    await expect(pipeline('upgraded')).rejects.toMatchObject({ code: 404 });
    expect(await kafkaTopicNames()).toEqual(before.filter((n) => n !== 'doomed.events'));
    for (const name of ['kept.events', 'dropped.events']) {
      const kt = await kafkaTopic(name);
      expect(kt.metadata.ownerReferences).toBeUndefined();
    }
    expect((await kafkaTopic('kept.events')).metadata.labels['shopstream.io/pipeline-uid']).toBe(uid);
  });
});
