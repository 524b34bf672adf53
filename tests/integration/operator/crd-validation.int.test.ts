import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { installPipelineCrd, kubeConfig, randomNamespace, waitFor } from '../../harness/index.js';

const group = 'shopstream.io';
const version = 'v1alpha1';
const plural = 'productpipelines';

/** A valid Direct-mode pipeline; tests change one thing at a time. */
const pipeline = (name: string, spec: Record<string, unknown> = {}) => ({
  apiVersion: `${group}/${version}`,
  kind: 'ProductPipeline',
  metadata: { name },
  spec: {
    kafka: { bootstrapServers: '127.0.0.1:9092', topicManagement: 'Direct' },
    topics: [{ name: 'product.events', partitions: 3 }],
    relay: { scaling: { minReplicas: 1, maxReplicas: 4 } },
    consumers: [{ groupId: 'product-consumer', topics: ['product.events'] }],
    ...spec,
  },
});

describe('the ProductPipeline CRD, served by the real kube-apiserver', () => {
  const kc = kubeConfig();
  const custom = kc.makeApiClient(CustomObjectsApi);
  const core = kc.makeApiClient(CoreV1Api);
  const namespace = randomNamespace('crd');

  beforeAll(async () => {
    await installPipelineCrd(kc);
    await core.createNamespace({ body: { metadata: { name: namespace } } });
  });
  afterAll(() => core.deleteNamespace({ name: namespace }).catch(() => undefined));

  const create = (body: object) =>
    waitFor(() => custom.createNamespacedCustomObject({ group, version, namespace, plural, body }), {
      description: 'the API server to accept the object',
      timeoutMs: 15_000,
    });
  const refused = async (body: object): Promise<string> => {
    try {
      await custom.createNamespacedCustomObject({ group, version, namespace, plural, body });
    } catch (err) {
      return String((err as { body?: string }).body ?? err);
    }
    throw new Error('the API server accepted an invalid ProductPipeline');
  };

  it('accepts a valid pipeline and applies the schema defaults', async () => {
    const created = (await create(pipeline('valid'))) as {
      spec: { topics: { replicas?: number; deletionPolicy: string }[]; relay: { scaling: { mode: string } } };
    };
    expect(created.spec.topics[0]).toMatchObject({ deletionPolicy: 'Retain' });
    // No default for replicas: unset means the broker's (or Strimzi's) default replication factor.
    expect(created.spec.topics[0]).not.toHaveProperty('replicas');
    expect(created.spec.relay.scaling.mode).toBe('Operator');
  });

  it('refuses minReplicas > maxReplicas with the rule’s message', async () => {
    const body = await refused(
      pipeline('bad-scaling', { relay: { scaling: { minReplicas: 5, maxReplicas: 2 } } }),
    );
    expect(body).toMatch(/scaling.minReplicas must not exceed scaling.maxReplicas/);
  });

  it('refuses two offset-reset targets (and none) with the rule’s message', async () => {
    const reset = (to: object) =>
      pipeline('bad-reset', {
        consumers: [{ groupId: 'g', topics: ['product.events'], offsetReset: { requestId: 'r1', to } }],
      });
    expect(await refused(reset({ earliest: true, shiftBy: -5 }))).toMatch(/needs exactly one target/);
    expect(await refused(reset({}))).toMatch(/needs exactly one target/);
  });

  it('takes kafka.tls and kafka.authentication in the Strimzi Secret shapes, defaulting the keys', async () => {
    const created = (await create(
      pipeline('secured', {
        kafka: {
          bootstrapServers: 'my-cluster-kafka-bootstrap:9093',
          topicManagement: 'Direct',
          tls: { caSecretRef: { name: 'my-cluster-cluster-ca-cert' } },
          authentication: { type: 'scram-sha-512', username: 'op', passwordSecretRef: { name: 'op' } },
        },
      }),
    )) as { spec: { kafka: { tls: object; authentication: object } } };
    expect(created.spec.kafka.tls).toEqual({
      caSecretRef: { name: 'my-cluster-cluster-ca-cert', key: 'ca.crt' },
    });
    expect(created.spec.kafka.authentication).toMatchObject({
      passwordSecretRef: { name: 'op', key: 'password' },
    });
  });

  it('refuses authentication without the Secret its type needs, and tls authentication without tls', async () => {
    const kafka = (extra: object) =>
      pipeline('bad-auth', { kafka: { bootstrapServers: 'k:9093', topicManagement: 'Direct', ...extra } });
    expect(await refused(kafka({ authentication: { type: 'scram-sha-512', username: 'op' } }))).toMatch(
      /scram-sha-512 needs username and passwordSecretRef/,
    );
    expect(await refused(kafka({ tls: {}, authentication: { type: 'tls' } }))).toMatch(
      /tls needs certificateSecretRef/,
    );
    expect(
      await refused(kafka({ authentication: { type: 'tls', certificateSecretRef: { name: 'op' } } })),
    ).toMatch(/authentication type tls needs kafka.tls/);
  });

  it('refuses topic names Kafka would refuse', async () => {
    expect(
      await refused(pipeline('bad-topic', { topics: [{ name: 'orders/2026', partitions: 1 }] })),
    ).toMatch(/should match/);
    expect(await refused(pipeline('bad-topic', { topics: [{ name: '..', partitions: 1 }] }))).toMatch(
      /cannot be '\.' or '\.\.'/,
    );
  });

  it('refuses a partition decrease on update but accepts an increase', async () => {
    await create(pipeline('grows'));
    const patch = async (partitions: number) =>
      custom.patchNamespacedCustomObject({
        group,
        version,
        namespace,
        plural,
        name: 'grows',
        body: [{ op: 'replace', path: '/spec/topics/0/partitions', value: partitions }],
      });
    await expect(patch(6)).resolves.toBeDefined();
    await expect(patch(2)).rejects.toThrow(/partitions may only increase/);
  });
});
