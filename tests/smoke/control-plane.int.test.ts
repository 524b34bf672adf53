import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import type { V1Deployment } from '@kubernetes/client-node';
import { infraEnv, kubeConfig, randomNamespace, waitFor } from '../harness/index.js';

const run = promisify(execFile);

const isNotFound = (err: unknown): boolean => (err as { code?: number }).code === 404;

/** Resolves true once `read` answers 404; any other error is rethrown so waitFor reports it. */
const gone = async (read: () => Promise<unknown>): Promise<boolean> => {
  try {
    await read();
    return false;
  } catch (err) {
    if (isNotFound(err)) return true;
    throw err;
  }
};

const deployment = (name: string, replicas: number): V1Deployment => ({
  metadata: { name },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      // Never pulled: kwok's nodes run nothing, they only play the pod lifecycle.
      spec: { containers: [{ name: 'main', image: 'registry.invalid/shopstream/idle:1' }] },
    },
  },
});

// The local control plane of `infra.sh up`: kube-controller-manager, kube-scheduler and kwok's fake
// node on top of the shared kube-apiserver. Each case would time out on a bare apiserver, which
// stores these objects but never acts on them.
describe('local control plane', () => {
  const env = infraEnv();
  const kc = kubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const namespace = randomNamespace('control-plane');

  beforeAll(async () => {
    if (!env.controlPlane) {
      throw new Error(
        'kube-controller-manager, kube-scheduler or kwok is not healthy (see `npm run infra status`); ' +
          'these tests need the default profile, not SHOPSTREAM_CONTROL_PLANE=0',
      );
    }
    await core.createNamespace({ body: { metadata: { name: namespace } } });
  });

  afterAll(async () => {
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
  });

  it('rolls a 2-replica Deployment out to Running, Ready pods on a fake node and removes them at scale 0', async () => {
    const name = 'web';
    const created = await apps.createNamespacedDeployment({ namespace, body: deployment(name, 2) });

    await waitFor(
      async () => (await apps.readNamespacedDeployment({ name, namespace })).status?.readyReplicas === 2,
      { description: `deployment ${namespace}/${name} to have 2 ready replicas`, timeoutMs: 120_000 },
    );

    const replicaSets = (await apps.listNamespacedReplicaSet({ namespace })).items.filter((rs) =>
      rs.metadata?.ownerReferences?.some((o) => o.kind === 'Deployment' && o.uid === created.metadata?.uid),
    );
    expect(replicaSets).toHaveLength(1);
    const replicaSet = replicaSets[0]!;
    expect(replicaSet.status?.readyReplicas).toBe(2);

    const pods = (await core.listNamespacedPod({ namespace, labelSelector: `app=${name}` })).items;
    expect(pods).toHaveLength(2);
    for (const pod of pods) {
      expect(pod.metadata?.ownerReferences?.map((o) => o.uid)).toEqual([replicaSet.metadata?.uid]);
      expect(pod.spec?.nodeName).toBe(env.kwokNode);
      expect(pod.status?.phase).toBe('Running');
      expect(pod.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    }

    // Conflicts with the deployment controller's own status writes are retried.
    await waitFor(
      () =>
        apps.replaceNamespacedDeploymentScale({
          name,
          namespace,
          body: { metadata: { name, namespace }, spec: { replicas: 0 } },
        }),
      { description: `deployment ${namespace}/${name} to accept scale 0` },
    );
    await waitFor(
      async () =>
        (await core.listNamespacedPod({ namespace, labelSelector: `app=${name}` })).items.length === 0,
      { description: `the pods of ${namespace}/${name} to be removed after scale 0`, timeoutMs: 120_000 },
    );
    await waitFor(
      async () => {
        const status = (await apps.readNamespacedDeployment({ name, namespace })).status;
        return (status?.replicas ?? 0) === 0 && (status?.readyReplicas ?? 0) === 0;
      },
      { description: `deployment ${namespace}/${name} to report 0 replicas`, timeoutMs: 60_000 },
    );
  });

  it('garbage-collects an object whose owner is deleted and keeps one that has no owner', async () => {
    const owner = await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'owner' } } });
    await core.createNamespacedConfigMap({
      namespace,
      body: {
        metadata: {
          name: 'dependent',
          ownerReferences: [
            { apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata!.uid! },
          ],
        },
      },
    });
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'bystander' } } });
    // The dependent is stored as written: its owner exists, so the collector has nothing to do yet.
    expect((await core.readNamespacedConfigMap({ name: 'dependent', namespace })).metadata?.name).toBe(
      'dependent',
    );

    await core.deleteNamespacedConfigMap({ name: 'owner', namespace });

    await waitFor(() => gone(() => core.readNamespacedConfigMap({ name: 'dependent', namespace })), {
      description: `configmap ${namespace}/dependent to be garbage-collected after its owner was deleted`,
      timeoutMs: 120_000,
    });
    expect((await core.readNamespacedConfigMap({ name: 'bystander', namespace })).metadata?.name).toBe(
      'bystander',
    );
  });

  it('lets `helm install --wait` finish for a chart whose Deployment must become available', async () => {
    const chart = await mkdtemp(join(tmpdir(), 'wait-chart-'));
    const release = randomNamespace('wait');
    try {
      await mkdir(join(chart, 'templates'));
      await writeFile(join(chart, 'Chart.yaml'), 'apiVersion: v2\nname: wait-probe\nversion: 0.1.0\n');
      await writeFile(
        join(chart, 'templates', 'deployment.yaml'),
        JSON.stringify({ apiVersion: 'apps/v1', kind: 'Deployment', ...deployment('probe', 2) }),
      );
      // --wait fails the install unless both replicas are available before the timeout.
      await run(env.helm, [
        'install',
        release,
        chart,
        '--namespace',
        namespace,
        '--kubeconfig',
        env.kubeconfig,
        '--wait',
        '--timeout',
        '120s',
      ]);
      const status = (await apps.readNamespacedDeployment({ name: 'probe', namespace })).status;
      expect(status?.availableReplicas).toBe(2);
    } finally {
      await run(env.helm, [
        'uninstall',
        release,
        '--namespace',
        namespace,
        '--kubeconfig',
        env.kubeconfig,
      ]).catch(() => undefined);
      await rm(chart, { recursive: true, force: true });
    }
  });

  it('finishes deleting a namespace that still holds a Deployment, its pods and a ConfigMap', async () => {
    const doomed = randomNamespace('control-plane-delete');
    await core.createNamespace({ body: { metadata: { name: doomed } } });
    try {
      await core.createNamespacedConfigMap({ namespace: doomed, body: { metadata: { name: 'settings' } } });
      await apps.createNamespacedDeployment({ namespace: doomed, body: deployment('worker', 1) });
      await waitFor(
        async () =>
          (await apps.readNamespacedDeployment({ name: 'worker', namespace: doomed })).status
            ?.readyReplicas === 1,
        { description: `deployment ${doomed}/worker to have 1 ready replica`, timeoutMs: 120_000 },
      );

      await core.deleteNamespace({ name: doomed });

      await waitFor(() => gone(() => core.readNamespace({ name: doomed })), {
        description: `namespace ${doomed} to finish terminating and disappear`,
        timeoutMs: 180_000,
      });
    } finally {
      await core.deleteNamespace({ name: doomed }).catch(() => undefined);
    }
  });
});
