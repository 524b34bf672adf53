import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BatchV1Api,
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import type { V1Pod } from '@kubernetes/client-node';
import { Kafka, logLevel } from 'kafkajs';
import type { ProductPipeline } from '@shopstream/operator';
import {
  infraEnv,
  installPipelineCrd,
  kubeConfig,
  randomGroup,
  randomNamespace,
  randomTopic,
  waitFor,
} from '../../harness/index.js';
import { prepareUmbrella } from './observability-helm.js';
import type { Umbrella } from './observability-helm.js';
import { PodProcesses, TestKubelet } from './pod-processes.js';

const OPERATOR_IMAGE = 'ghcr.io/shopstream/operator:';

/**
 * What the operator image runs, as one of our sources: the default command (operator/dist/main.js)
 * or the one a pod names (node operator/dist/<x>.js). Any other image is an error: the deletion
 * hook must need nothing a cluster running the operator would not already pull.
 */
function entryOf(pod: V1Pod): string {
  const container = pod.spec!.containers[0]!;
  if (!container.image?.startsWith(OPERATOR_IMAGE))
    throw new Error(`not the operator image: ${container.image}`);
  const [node, script, ...rest] = container.command ?? ['node', 'operator/dist/main.js'];
  const match = /^operator\/dist\/([\w-]+)\.js$/.exec(script ?? '');
  if (node !== 'node' || !match || rest.length > 0)
    throw new Error(`unexpected command ${container.command}`);
  return `operator/src/${match[1]}.ts`;
}

/**
 * `helm install --wait` of the umbrella chart (dev profile, Direct topics on the local Kafka) on
 * the fake nodes (kwok, with the real controller manager and scheduler), then `helm uninstall`.
 * kwok runs no containers, so the test supplies the processes: the operator pod's (PodProcesses,
 * with the chart's ServiceAccount token: when Helm deletes the RBAC, the operator loses it) and the
 * deletion hook's, on a node the test is the kubelet of (kwok would mark the Job complete without
 * running it). The second case, without the hook, shows the failure the hook prevents, so the
 * first cannot pass merely because nothing could have stranded the pipeline.
 */
describe('helm uninstall of the umbrella chart', () => {
  const env = infraEnv();
  const kc = kubeConfig();
  const kafka = new Kafka({
    clientId: 'uninstall-test',
    brokers: [env.kafkaBrokers],
    logLevel: logLevel.NOTHING,
  });
  let umbrella: Umbrella;
  let dir: string;
  const topics: string[] = [];

  beforeAll(async () => {
    await installPipelineCrd(kc);
    umbrella = await prepareUmbrella();
    dir = await mkdtemp(join(tmpdir(), 'umbrella-uninstall-'));
  }, 120_000);
  afterAll(async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics }).catch(() => undefined);
    await admin.disconnect();
    await umbrella?.remove();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const pipelinesIn = async (namespace: string) =>
    (
      (await kc.makeApiClient(CustomObjectsApi).listNamespacedCustomObject({
        group: 'shopstream.io',
        version: 'v1alpha1',
        namespace,
        plural: 'productpipelines',
      })) as { items: ProductPipeline[] }
    ).items;
  const kafkaTopics = async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      return await admin.listTopics();
    } finally {
      await admin.disconnect();
    }
  };

  /** Installs a release in a fresh namespace with its operator running; returns what to clean up. */
  async function install(release: string, hook: boolean, kubelet: TestKubelet) {
    const namespace = randomNamespace('uninstall');
    const [deleted, retained] = [randomTopic('uninstall.delete'), randomTopic('uninstall.retain')];
    topics.push(deleted, retained);
    const values = join(dir, `${release}.json`);
    await writeFile(
      values,
      JSON.stringify({
        strimzi: { kafka: { enabled: false } },
        // Its own namespace only: a cluster-wide operator would reconcile other tests' pipelines.
        operator: { watchNamespace: namespace },
        pipeline: {
          kafka: { topicManagement: 'Direct', bootstrapServers: env.kafkaBrokers },
          topics: [
            { name: deleted, partitions: 1, replicas: 1, deletionPolicy: 'Delete' },
            { name: retained, partitions: 1, replicas: 1, deletionPolicy: 'Retain' },
          ],
          relay: { scaling: { mode: 'Disabled' } },
          consumers: [{ groupId: randomGroup('uninstall'), topics: [deleted] }],
          deletionHook: { enabled: hook, timeoutSeconds: 60, ...kubelet.placement },
        },
      }),
    );
    const operator = new PodProcesses(
      kc,
      namespace,
      `app.kubernetes.io/name=operator,app.kubernetes.io/instance=${release}`,
      entryOf,
      dir,
    );
    operator.run();
    await umbrella.helm([
      'install',
      release,
      umbrella.chart,
      '--kubeconfig',
      env.kubeconfig,
      '--namespace',
      namespace,
      '--create-namespace',
      '--values',
      join(umbrella.chart, 'values-dev.yaml'),
      '--values',
      values,
      '--wait',
      '--timeout',
      '180s',
    ]);
    // The operator, under the chart's RBAC, has taken the pipeline on: finalizer set, topics made.
    await waitFor(
      async () => {
        const [p] = await pipelinesIn(namespace);
        const made = await kafkaTopics();
        return p?.metadata.finalizers?.includes('shopstream.io/finalizer') && made.includes(deleted);
      },
      { description: 'the operator to add its finalizer and create the topics', timeoutMs: 60_000 },
    );
    const uninstall = (wait: boolean) =>
      umbrella.helm([
        'uninstall',
        release,
        '--kubeconfig',
        env.kubeconfig,
        '--namespace',
        namespace,
        ...(wait ? ['--wait', '--timeout', '180s'] : []),
      ]);
    return { namespace, deleted, retained, operator, uninstall };
  }

  it('with the deletion hook: installs on the fake nodes; uninstall finalizes the pipeline before the operator goes', async () => {
    const release = `hooked-${randomGroup('r').slice(-8)}`;
    const kubelet = new TestKubelet(kc, `test-kubelet-${release}`, entryOf, dir);
    await kubelet.start();
    const { namespace, deleted, retained, operator, uninstall } = await install(release, true, kubelet);
    try {
      await uninstall(true);
      // helm returned only after the hook's Job completed, and the Job completes only when the
      // command exits 0, which it does once every pipeline of the release is gone.
      expect(await pipelinesIn(namespace)).toEqual([]);
      expect(kubelet.ran.map((r) => [r.pod.split('/')[0], r.exitCode])).toEqual([[namespace, 0]]);
      expect(kubelet.ran[0]!.process.output()).toMatch(/pipelines gone/);
      // The finalizer ran, rather than being stripped: Delete topic gone, Retain topic kept.
      await waitFor(async () => !(await kafkaTopics()).includes(deleted), {
        description: 'the Delete topic deleted by the finalizer',
      });
      expect(await kafkaTopics()).toContain(retained);
      // The hook's own objects went with it (hook-succeeded).
      const jobs = await kc.makeApiClient(BatchV1Api).listNamespacedJob({ namespace });
      expect(jobs.items.filter((j) => j.metadata?.name?.endsWith('-delete-pipelines'))).toEqual([]);
      const accounts = await kc.makeApiClient(CoreV1Api).listNamespacedServiceAccount({ namespace });
      expect(accounts.items.map((a) => a.metadata?.name)).not.toContain(
        `${release}-shopstream-delete-pipelines`,
      );
    } finally {
      await operator.stop();
      await kubelet.stop();
      await kc
        .makeApiClient(CoreV1Api)
        .deleteNamespace({ name: namespace })
        .catch(() => undefined);
    }
  });

  it('without the hook, uninstall strands the pipeline: the operator and its RBAC go with it', async () => {
    const release = `unhooked-${randomGroup('r').slice(-8)}`;
    const kubelet = new TestKubelet(kc, `test-kubelet-${release}`, entryOf, dir);
    await kubelet.start();
    const { namespace, operator, uninstall } = await install(release, false, kubelet);
    try {
      // Without --wait: helm would wait its whole timeout for the pipeline that never goes.
      await uninstall(false);
      await new Promise((r) => setTimeout(r, 5000));
      const [stuck, ...more] = await pipelinesIn(namespace);
      expect(more).toEqual([]);
      expect(stuck?.metadata.deletionTimestamp).toBeDefined();
      expect(stuck?.metadata.finalizers).toEqual(['shopstream.io/finalizer']);
      expect(kubelet.ran).toEqual([]);
    } finally {
      await kc
        .makeApiClient(CustomObjectsApi)
        .patchNamespacedCustomObject(
          {
            group: 'shopstream.io',
            version: 'v1alpha1',
            namespace,
            plural: 'productpipelines',
            name: 'products',
            body: { metadata: { finalizers: null } },
          },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        )
        .catch(() => undefined);
      await operator.stop();
      await kubelet.stop();
      await kc
        .makeApiClient(CoreV1Api)
        .deleteNamespace({ name: namespace })
        .catch(() => undefined);
    }
  });
});
