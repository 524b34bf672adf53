import { CustomObjectsApi } from '@kubernetes/client-node';
import { DirectTopicAdmin } from '@shopstream/operator';
import type { ProductPipeline } from '@shopstream/operator';
import {
  KafkaTool,
  freePort,
  infraEnv,
  installPipelineCrd,
  randomTopic,
  runKafkaTool,
  startPrivateKube,
  startService,
  waitFor,
} from '../../harness/index.js';
import type { PrivateKube, ServiceProcess } from '../../harness/index.js';

const group = 'shopstream.io';
const version = 'v1alpha1';
const plural = 'productpipelines';

describe('the operator when its API server restarts', () => {
  let kube: PrivateKube;
  let operator: ServiceProcess | undefined;
  const topic = randomTopic('product.events');
  const brokers = infraEnv().kafkaBrokers;
  beforeAll(async () => {
    kube = await startPrivateKube();
  });
  afterAll(async () => {
    operator?.child.kill('SIGKILL');
    await kube?.destroy();
    const admin = new DirectTopicAdmin(brokers);
    await admin.deleteTopic(topic).catch(() => undefined);
    await admin.close();
  });

  it('keeps watching after the API server was stopped and started, and reconciles a change made when it came back', async () => {
    const kc = kube.kubeConfig;
    await installPipelineCrd(kc);
    const custom = kc.makeApiClient(CustomObjectsApi);
    await waitFor(
      () =>
        custom.createNamespacedCustomObject({
          group,
          version,
          namespace: 'default',
          plural,
          body: {
            apiVersion: `${group}/${version}`,
            kind: 'ProductPipeline',
            metadata: { name: 'local' },
            spec: {
              kafka: { bootstrapServers: brokers, topicManagement: 'Direct' },
              topics: [{ name: topic, partitions: 2 }],
            },
          },
        }),
      { description: 'the pipeline to be created' },
    );
    operator = startService('operator/src/main.ts', {
      KUBECONFIG: kube.kubeconfigPath,
      OPERATOR_NAMESPACE: 'default',
      POD_NAME: 'op',
      // The outage must stay within the renew deadline: past it the leader exits by design (the
      // operator-loses-leadership tests cover that); this test is about the watch coming back.
      LEADER_ELECTION_LEASE_MS: '120000',
      LEADER_ELECTION_RENEW_DEADLINE_MS: '90000',
      METRICS_PORT: String(await freePort()),
      METRICS_HOST: '127.0.0.1',
    });
    const pipeline = async () =>
      (await custom.getNamespacedCustomObject({
        group,
        version,
        namespace: 'default',
        plural,
        name: 'local',
      })) as ProductPipeline;
    await waitFor(
      async () => (await pipeline()).status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True',
      {
        description: 'Ready before the restart',
        timeoutMs: 60_000,
      },
    );

    await kube.stopApiserver();
    await new Promise((r) => setTimeout(r, 3000));
    await kube.startApiserver();
    // Right after a start the API server answers 503 until the CRD's paths are installed again.
    await waitFor(
      () =>
        custom.patchNamespacedCustomObject({
          group,
          version,
          namespace: 'default',
          plural,
          name: 'local',
          body: [{ op: 'replace', path: '/spec/topics/0/partitions', value: 4 }],
        }),
      { description: 'the API server to accept the change', timeoutMs: 30_000 },
    );
    await waitFor(async () => (await pipeline()).status?.observedGeneration === 2, {
      description: 'the change made after the restart to be reconciled',
      timeoutMs: 60_000,
    });
    const described = await runKafkaTool(KafkaTool.topics, [
      '--bootstrap-server',
      brokers,
      '--describe',
      '--topic',
      topic,
    ]);
    expect(described).toMatch(/PartitionCount: 4/);
    expect(operator.child.exitCode).toBeNull(); // still running
  });
});
