import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import {
  installFixtureCrd,
  installPipelineCrd,
  kubeConfig,
  randomNamespace,
  waitFor,
} from '../../harness/index.js';
import type { OperatorProcess } from './operator-fixture.js';
import { pipelines, startOperator } from './operator-fixture.js';

const strimzi = { group: 'kafka.strimzi.io', version: 'v1', plural: 'kafkatopics' };

interface KafkaTopic {
  metadata: { name: string; ownerReferences?: { uid: string }[] };
}

/**
 * DESIGN.md §9, "pipeline deleted": Delete topics removed, Retain topics kept — with the real
 * garbage collector (kube-controller-manager) running against the API server, in Strimzi mode with
 * the KafkaTopics in the pipeline's own namespace, where an ownerReference to the pipeline would
 * let the collector delete a Retain KafkaTopic (and Strimzi the Kafka topic with it).
 */
describe('deleting a Strimzi-mode pipeline with the garbage collector running', () => {
  const kc = kubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const namespace = randomNamespace('deleted');
  let operator: OperatorProcess | undefined;

  const kafkaTopics = async () =>
    (
      (await custom.listNamespacedCustomObject({ ...strimzi, namespace })) as { items: KafkaTopic[] }
    ).items.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));

  beforeAll(async () => {
    await installPipelineCrd(kc);
    await installFixtureCrd(kc, 'kafkatopics.kafka.strimzi.io.yaml');
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    operator = await startOperator(namespace, 'op-deleted');
  });
  afterAll(async () => {
    operator?.child.kill('SIGTERM');
    await operator?.exited;
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
  });

  it('keeps the Retain KafkaTopic and deletes the Delete one once garbage collection has settled', async () => {
    await pipelines(kc, namespace).create('shop', {
      kafka: {
        clusterRef: { name: 'shop-kafka' },
        bootstrapServers: 'shop-kafka-kafka-bootstrap:9092',
        topicManagement: 'Strimzi',
      },
      topics: [
        { name: 'kept.events', partitions: 1, deletionPolicy: 'Retain' },
        { name: 'doomed.events', partitions: 1, deletionPolicy: 'Delete' },
      ],
    });
    await waitFor(async () => (await kafkaTopics()).length === 2, {
      description: 'the operator to apply both KafkaTopics',
    });
    const { uid } = (await pipelines(kc, namespace).get('shop')).metadata;

    // The canary is what an owned KafkaTopic looks like to the collector. Its going proves the
    // collector runs, watches KafkaTopics and has acted on this pipeline's deletion; without it
    // the Retain topic surviving would prove nothing.
    await custom.createNamespacedCustomObject({
      ...strimzi,
      namespace,
      body: {
        apiVersion: `${strimzi.group}/${strimzi.version}`,
        kind: 'KafkaTopic',
        metadata: {
          name: 'gc-canary',
          ownerReferences: [
            { apiVersion: 'shopstream.io/v1alpha1', kind: 'ProductPipeline', name: 'shop', uid },
          ],
        },
        spec: { topicName: 'gc-canary', partitions: 1, replicas: 1 },
      },
    });
    expect((await kafkaTopics()).map((t) => t.metadata.name)).toEqual([
      'doomed.events',
      'gc-canary',
      'kept.events',
    ]);

    // As kubectl does: background propagation, the collector's default.
    await custom.deleteNamespacedCustomObject({
      group: 'shopstream.io',
      version: 'v1alpha1',
      namespace,
      plural: 'productpipelines',
      name: 'shop',
    });
    await waitFor(
      () =>
        pipelines(kc, namespace)
          .get('shop')
          .then(
            () => false,
            (err: { code?: number }) => err.code === 404,
          ),
      { description: 'the finalizer to run and the pipeline to go', timeoutMs: 30_000 },
    );
    // The collector rescans discovery every 30 s, so a freshly installed CRD can take that long.
    await waitFor(async () => !(await kafkaTopics()).some((t) => t.metadata.name === 'gc-canary'), {
      description: 'the garbage collector to delete the canary owned by the deleted pipeline',
      timeoutMs: 90_000,
      intervalMs: 500,
    });
    // The collector deletes a pipeline's dependents one by one: give it a few more seconds to be
    // sure the Retain topic is not merely next in line.
    await new Promise((r) => setTimeout(r, 5000));
    const left = await kafkaTopics();
    expect(left.map((t) => t.metadata.name)).toEqual(['kept.events']);
    expect(left[0]!.metadata.ownerReferences).toBeUndefined();
  });
});
