import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import type { ProductPipeline } from '@shopstream/operator';
import { freePort, infraEnv, startService, waitFor } from '../../harness/index.js';
import type { ServiceProcess } from '../../harness/index.js';

const group = 'shopstream.io';
const version = 'v1alpha1';
const plural = 'productpipelines';

export interface OperatorProcess extends ServiceProcess {
  metrics(): Promise<string>;
}

/**
 * A real operator process watching one namespace (short leader-election times for failover tests),
 * on the shared API server unless `kubeconfig` names another (startPrivateKube).
 */
export async function startOperator(
  namespace: string,
  identity: string,
  kubeconfig = infraEnv().kubeconfig,
  env: Record<string, string | undefined> = {},
): Promise<OperatorProcess> {
  const port = await freePort();
  const merged: Record<string, string | undefined> = {
    KUBECONFIG: kubeconfig,
    OPERATOR_NAMESPACE: namespace,
    WATCH_NAMESPACE: namespace,
    POD_NAME: identity,
    LEADER_ELECTION_LEASE_MS: '4000',
    LEADER_ELECTION_RENEW_DEADLINE_MS: '3000',
    LEADER_ELECTION_RETRY_MS: '500',
    METRICS_PORT: String(port),
    METRICS_HOST: '127.0.0.1',
    ...env, // undefined removes a default (WATCH_NAMESPACE: every namespace)
  };
  const proc = startService(
    'operator/src/main.ts',
    Object.fromEntries(Object.entries(merged).filter((e): e is [string, string] => e[1] !== undefined)),
  );
  return { ...proc, metrics: async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text() };
}

/** ProductPipeline reads and writes for a test namespace. */
export function pipelines(kc: KubeConfig, namespace: string) {
  const custom = kc.makeApiClient(CustomObjectsApi);
  return {
    create: (name: string, spec: object, labels?: Record<string, string>) =>
      custom.createNamespacedCustomObject({
        group,
        version,
        namespace,
        plural,
        body: {
          apiVersion: `${group}/${version}`,
          kind: 'ProductPipeline',
          metadata: { name, ...(labels ? { labels } : {}) },
          spec,
        },
      }),
    get: async (name: string) =>
      (await custom.getNamespacedCustomObject({
        group,
        version,
        namespace,
        plural,
        name,
      })) as ProductPipeline,
    delete: (name: string) =>
      custom.deleteNamespacedCustomObject({ group, version, namespace, plural, name }),
    /** Whether the object still exists (a deleted one stays while finalizers remain). */
    exists: async (name: string) =>
      custom.getNamespacedCustomObject({ group, version, namespace, plural, name }).then(
        () => true,
        (err: { code?: number }) => {
          if (err.code === 404) return false;
          throw err;
        },
      ),
    /** A JSON merge patch of the spec. */
    patchSpec: (name: string, spec: object) =>
      custom.patchNamespacedCustomObject(
        { group, version, namespace, plural, name, body: { spec } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    /** The Events recorded on the pipeline, oldest first (by etcd revision: timestamps have 1 s resolution). */
    events: async (name: string) =>
      (await kc.makeApiClient(CoreV1Api).listNamespacedEvent({ namespace })).items
        .filter((e) => e.involvedObject.name === name && e.involvedObject.kind === 'ProductPipeline')
        .sort((a, b) => Number(a.metadata?.resourceVersion) - Number(b.metadata?.resourceVersion)),
  };
}

export const condition = (p: ProductPipeline, type: string) =>
  p.status?.conditions?.find((c) => c.type === type);

/** A Deployment as an API object only: no controller runs it here; tests act on its replicas. */
export async function createDeployment(kc: KubeConfig, namespace: string, name: string, replicas: number) {
  await kc.makeApiClient(AppsV1Api).createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name },
      spec: {
        replicas,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: { containers: [{ name, image: `shopstream/${name}:test` }] },
        },
      },
    },
  });
}

export async function deploymentOf(kc: KubeConfig, namespace: string, name: string) {
  const d = await kc.makeApiClient(AppsV1Api).readNamespacedDeployment({ namespace, name });
  return {
    replicas: d.spec?.replicas ?? 0,
    annotations: d.metadata?.annotations ?? {},
    generation: d.metadata?.generation,
  };
}

/**
 * Stands in for the kubelet (there is no controller-manager here): keeps as many real processes
 * running as the Deployment's spec.replicas says, stopping surplus ones with SIGTERM like a pod
 * termination. `hold()` makes it ignore changes (a kubelet that is slow to kill pods).
 */
export class KubeletStandIn<P extends ServiceProcess> {
  readonly running: P[] = [];
  /** Every distinct replica count seen, in order. */
  readonly observed: number[] = [];
  private held = false;
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly kc: KubeConfig,
    private readonly namespace: string,
    private readonly deployment: string,
    private readonly start: () => Promise<P>,
  ) {}

  run(): void {
    this.loop = (async () => {
      while (!this.stopped) {
        const { replicas } = await deploymentOf(this.kc, this.namespace, this.deployment).catch(() => ({
          replicas: this.running.length,
        }));
        if (this.observed.at(-1) !== replicas) this.observed.push(replicas);
        if (!this.held) {
          while (this.running.length < replicas) this.running.push(await this.start());
          while (this.running.length > replicas) {
            const p = this.running.pop()!;
            p.child.kill('SIGTERM');
            await p.exited;
          }
        }
        await new Promise((r) => setTimeout(r, 150));
      }
    })();
  }

  hold(held: boolean): void {
    this.held = held;
  }

  /** Waits until the processes match `replicas`. */
  async settled(replicas: number, timeoutMs = 60_000): Promise<void> {
    await waitFor(() => !this.held && this.running.length === replicas && this.observed.at(-1) === replicas, {
      description: `${replicas} running process(es) for ${this.deployment}`,
      timeoutMs,
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    for (const p of this.running) p.child.kill('SIGKILL');
    await Promise.all(this.running.map((p) => p.exited));
  }
}
