import { CoordinationV1Api, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { DirectTopicAdmin } from '@shopstream/operator';
import type { ProductPipeline } from '@shopstream/operator';
import {
  KafkaTool,
  freePort,
  infraEnv,
  installPipelineCrd,
  kubeConfig,
  randomNamespace,
  randomTopic,
  runKafkaTool,
  startService,
  waitFor,
} from '../../harness/index.js';
import type { ServiceProcess } from '../../harness/index.js';

const group = 'shopstream.io';
const version = 'v1alpha1';
const plural = 'productpipelines';
const LEASE_MS = 4000;

describe('two operator processes', () => {
  const kc = kubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const leases = kc.makeApiClient(CoordinationV1Api);
  const namespace = randomNamespace('operator');
  const topic = randomTopic('product.events');
  const brokers = infraEnv().kafkaBrokers;
  const operators: Record<string, ServiceProcess> = {};
  const metricsPorts: Record<string, number> = {};

  beforeAll(async () => {
    await installPipelineCrd(kc);
    await core.createNamespace({ body: { metadata: { name: namespace } } });
  });
  afterAll(async () => {
    for (const p of Object.values(operators)) p.child.kill('SIGKILL');
    await Promise.all(Object.values(operators).map((p) => p.exited));
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
    const admin = new DirectTopicAdmin(brokers);
    await admin.deleteTopic(topic).catch(() => undefined);
    await admin.close();
  });

  const start = async (identity: string) => {
    metricsPorts[identity] = await freePort();
    operators[identity] = startService('operator/src/main.ts', {
      KUBECONFIG: infraEnv().kubeconfig,
      OPERATOR_NAMESPACE: namespace,
      WATCH_NAMESPACE: namespace,
      POD_NAME: identity,
      LEADER_ELECTION_LEASE_MS: String(LEASE_MS),
      LEADER_ELECTION_RENEW_DEADLINE_MS: '3000',
      LEADER_ELECTION_RETRY_MS: '500',
      METRICS_PORT: String(metricsPorts[identity]),
      METRICS_HOST: '127.0.0.1',
    });
  };
  const holder = async () =>
    (await leases.readNamespacedLease({ name: 'shopstream-operator', namespace }).catch(() => undefined))
      ?.spec?.holderIdentity;
  const pipeline = async () =>
    (await custom.getNamespacedCustomObject({
      group,
      version,
      namespace,
      plural,
      name: 'local',
    })) as ProductPipeline;
  const partitions = async () =>
    Number(
      /PartitionCount: (\d+)/.exec(
        await runKafkaTool(KafkaTool.topics, ['--bootstrap-server', brokers, '--describe', '--topic', topic]),
      )?.[1],
    );

  it('only the leader reconciles; after SIGKILL the other takes over within the lease + 5 s and reconciles a change made meanwhile', async () => {
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
          topics: [{ name: topic, partitions: 3 }],
        },
      },
    });
    await start('op-a');
    await start('op-b');
    await waitFor(
      async () => (await pipeline()).status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True',
      {
        description: 'the pipeline to become Ready',
        timeoutMs: 60_000,
      },
    );
    expect(await partitions()).toBe(3);
    const leader = (await holder())!;
    const follower = leader === 'op-a' ? 'op-b' : 'op-a';
    expect(operators[leader]!.output()).toContain('"msg":"pipeline reconciled"');
    expect(operators[follower]!.output()).not.toContain('"msg":"pipeline reconciled"');

    operators[leader]!.child.kill('SIGKILL');
    const killedAt = Date.now();
    await custom.patchNamespacedCustomObject({
      group,
      version,
      namespace,
      plural,
      name: 'local',
      body: [{ op: 'replace', path: '/spec/topics/0/partitions', value: 4 }],
    });
    await waitFor(async () => (await holder()) === follower, {
      description: `${follower} to hold the lease`,
      timeoutMs: LEASE_MS + 5000,
      intervalMs: 100,
    });
    expect(Date.now() - killedAt).toBeLessThanOrEqual(LEASE_MS + 5000);
    await waitFor(async () => (await pipeline()).status?.observedGeneration === 2, {
      description: 'the change to be reconciled by the new leader',
      timeoutMs: 30_000,
    });
    expect(await partitions()).toBe(4);
    expect(operators[follower]!.output()).toContain('"msg":"started leading"');
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPorts[follower]}/metrics`)).text();
    expect(metrics).toMatch(
      /^shopstream_operator_reconcile_total\{controller="pipeline",result="requeue"\} [1-9]/m,
    );
    expect(metrics).toMatch(
      /^shopstream_operator_reconcile_duration_seconds_count\{controller="pipeline"\} [1-9]/m,
    );
    expect(metrics).toMatch(/^shopstream_operator_leader 1$/m);
  });
});
