import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
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
    ownerReferences?: { kind: string; name: string; uid: string; controller: boolean }[];
    managedFields?: { manager: string }[];
  };
  spec: { topicName: string; partitions: number; replicas: number; config: Record<string, string> };
}

describe('reconcilePipeline in Strimzi mode (real kube-apiserver, KafkaTopic fixture CRD)', () => {
  const kc = kubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const namespace = randomNamespace('strimzi');
  const runtime = createPipelineDeps(kc);
  const deps: PipelineDeps = runtime.deps;
  const reconcile = async () => {
    for (let i = 0; i < 5; i++) {
      const result = await reconcilePipeline(`${namespace}/shop`, deps);
      if (result.requeueAfterMs !== 0) return result;
    }
    throw new Error('reconcile kept asking for an immediate requeue');
  };
  const kafkaTopic = async (name: string) =>
    (await custom.getNamespacedCustomObject({
      group: 'kafka.strimzi.io',
      version: 'v1beta2',
      namespace,
      plural: 'kafkatopics',
      name,
    })) as KafkaTopic;
  const pipeline = async () =>
    (await custom.getNamespacedCustomObject({
      group,
      version,
      namespace,
      plural,
      name: 'shop',
    })) as ProductPipeline;

  beforeAll(async () => {
    await installPipelineCrd(kc);
    await installFixtureCrd(kc, 'kafkatopics.kafka.strimzi.io.yaml');
    await core.createNamespace({ body: { metadata: { name: namespace } } });
  });
  afterAll(() => core.deleteNamespace({ name: namespace }).catch(() => undefined));

  it('server-side applies one KafkaTopic per topic with the right spec, labels and owner; a second reconcile changes nothing', async () => {
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
    expect(events.metadata.labels).toMatchObject({
      'strimzi.io/cluster': 'shop-kafka',
      'app.kubernetes.io/managed-by': 'shopstream-operator',
    });
    expect(events.metadata.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'ProductPipeline', name: 'shop', uid, controller: true }),
    ]);
    expect(events.metadata.managedFields?.map((f) => f.manager)).toContain('shopstream-operator');
    const audit = await kafkaTopic('product-audit'); // a Kubernetes name for a topic name Kubernetes would refuse
    expect(audit.spec.topicName).toBe('Product_Audit');

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
        version: 'v1beta2',
        namespace,
        plural: 'kafkatopics',
        name,
      })) as { metadata: { generation: number } };
      await custom.patchNamespacedCustomObjectStatus({
        group: 'kafka.strimzi.io',
        version: 'v1beta2',
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
});
