import { join } from 'node:path';
import { CoreV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { KubeConfig, V1Pod } from '@kubernetes/client-node';
import { freePort, serviceAccountKubeconfig, startService } from '../../harness/index.js';
import type { ServiceProcess } from '../../harness/index.js';

/** Which of our sources a container runs, from its command or (none) its image's default. */
export type EntryOf = (pod: V1Pod) => string;

/**
 * The container's environment as the kubelet would give it (literal values and the pod's own
 * namespace and name), plus what a pod has that a local process lacks: a kubeconfig holding a
 * token of the pod's ServiceAccount (so the chart's RBAC applies, as in the cluster) and a free
 * metrics port (every "pod" shares this host's network).
 */
async function podEnv(kc: KubeConfig, pod: V1Pod, dir: string): Promise<Record<string, string>> {
  const namespace = pod.metadata!.namespace!;
  const container = pod.spec!.containers[0]!;
  const env: Record<string, string> = {};
  for (const e of container.env ?? []) {
    const field = e.valueFrom?.fieldRef?.fieldPath;
    if (e.value !== undefined) env[e.name] = e.value;
    else if (field === 'metadata.namespace') env[e.name] = namespace;
    else if (field === 'metadata.name') env[e.name] = pod.metadata!.name!;
  }
  const kubeconfig = await serviceAccountKubeconfig(
    kc,
    { namespace, name: pod.spec!.serviceAccountName ?? 'default' },
    join(dir, `kubeconfig-${namespace}-${pod.metadata!.name!}`),
  );
  return {
    ...env,
    KUBECONFIG: kubeconfig,
    METRICS_PORT: String(await freePort()),
    METRICS_HOST: '127.0.0.1',
  };
}

/**
 * The process side of a kubelet for pods whose status kwok already plays (Running, Ready): one
 * local process per live pod the selector picks, SIGTERM once the pod is terminating or gone — so
 * deleting the operator's Deployment stops the operator, as in a cluster.
 */
export class PodProcesses {
  readonly started: { pod: string; process: ServiceProcess }[] = [];
  private readonly running = new Map<string, ServiceProcess>();
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly kc: KubeConfig,
    private readonly namespace: string,
    private readonly labelSelector: string,
    private readonly entryOf: EntryOf,
    private readonly dir: string,
  ) {}

  run(): void {
    const core = this.kc.makeApiClient(CoreV1Api);
    this.loop = (async () => {
      while (!this.stopped) {
        const pods = await core
          .listNamespacedPod({ namespace: this.namespace, labelSelector: this.labelSelector })
          .then((l) => l.items)
          .catch(() => undefined);
        if (pods) {
          const live = pods.filter((p) => !p.metadata?.deletionTimestamp && p.status?.phase === 'Running');
          for (const pod of live) {
            const name = pod.metadata!.name!;
            if (this.running.has(name)) continue;
            const process = startService(this.entryOf(pod), await podEnv(this.kc, pod, this.dir));
            this.running.set(name, process);
            this.started.push({ pod: name, process });
          }
          for (const [name, process] of this.running) {
            if (live.some((p) => p.metadata!.name === name)) continue;
            process.child.kill('SIGTERM');
            this.running.delete(name);
          }
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    for (const { process } of this.started) process.child.kill('SIGKILL');
    await Promise.all(this.started.map((s) => s.process.exited));
  }
}

/**
 * A node this test is the kubelet of, because kwok completes a Job's pods without running
 * anything: pods the scheduler binds here run as local processes, and their status (Running, then
 * Succeeded or Failed with the exit code) is reported as a kubelet would, so the Job controller
 * completes a Job only once its command really succeeded. Tainted, so only pods that tolerate it
 * and select it come; a heartbeat keeps the node lifecycle controller from marking it NotReady.
 */
export class TestKubelet {
  readonly ran: { pod: string; process: ServiceProcess; exitCode?: number | string }[] = [];
  readonly label = 'shopstream.io/test-kubelet';
  private stopped = false;
  private loop: Promise<void> | undefined;
  private readonly readySince = new Date().toISOString();

  constructor(
    private readonly kc: KubeConfig,
    readonly node: string,
    private readonly entryOf: EntryOf,
    private readonly dir: string,
  ) {}

  /** nodeSelector and tolerations for pods that should run here. */
  get placement() {
    return {
      nodeSelector: { [this.label]: this.node },
      tolerations: [{ key: this.label, operator: 'Equal', value: this.node, effect: 'NoSchedule' }],
    };
  }

  async start(): Promise<void> {
    const core = this.kc.makeApiClient(CoreV1Api);
    await core.createNode({
      body: {
        metadata: {
          name: this.node,
          labels: { [this.label]: this.node, 'kubernetes.io/hostname': this.node },
        },
        spec: { taints: [{ key: this.label, value: this.node, effect: 'NoSchedule' }] },
      },
    });
    await this.heartbeat();
    this.loop = (async () => {
      let beat = Date.now();
      while (!this.stopped) {
        if (Date.now() - beat > 10_000) {
          await this.heartbeat().catch(() => undefined);
          beat = Date.now();
        }
        const pods = await core
          .listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${this.node}` })
          .then((l) => l.items)
          .catch(() => [] as V1Pod[]);
        for (const pod of pods) {
          const name = `${pod.metadata!.namespace!}/${pod.metadata!.name!}`;
          if (pod.metadata?.deletionTimestamp || this.ran.some((r) => r.pod === name)) continue;
          await this.runPod(pod);
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
  }

  private async runPod(pod: V1Pod): Promise<void> {
    const core = this.kc.makeApiClient(CoreV1Api);
    const namespace = pod.metadata!.namespace!;
    const name = pod.metadata!.name!;
    const container = pod.spec!.containers[0]!;
    const process = startService(this.entryOf(pod), await podEnv(this.kc, pod, this.dir));
    const entry: (typeof this.ran)[number] = { pod: `${namespace}/${name}`, process };
    this.ran.push(entry);
    const now = new Date().toISOString();
    await this.patchStatus(core, namespace, name, {
      phase: 'Running',
      startTime: now,
      containerStatuses: [
        {
          name: container.name,
          image: container.image,
          imageID: '',
          ready: true,
          restartCount: 0,
          started: true,
          state: { running: { startedAt: now } },
        },
      ],
    });
    void process.exited.then(async (code) => {
      entry.exitCode = code;
      const exitCode = typeof code === 'number' ? code : 137;
      await this.patchStatus(core, namespace, name, {
        phase: exitCode === 0 ? 'Succeeded' : 'Failed',
        containerStatuses: [
          {
            name: container.name,
            image: container.image,
            imageID: '',
            ready: false,
            restartCount: 0,
            started: false,
            state: {
              terminated: {
                exitCode,
                reason: exitCode === 0 ? 'Completed' : 'Error',
                startedAt: now,
                finishedAt: new Date().toISOString(),
              },
            },
          },
        ],
      }).catch(() => undefined);
    });
  }

  private patchStatus(core: CoreV1Api, namespace: string, name: string, status: object) {
    return core.patchNamespacedPodStatus(
      { namespace, name, body: { status } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }

  private async heartbeat(): Promise<void> {
    const now = new Date().toISOString();
    await this.kc.makeApiClient(CoreV1Api).patchNodeStatus(
      {
        name: this.node,
        body: {
          status: {
            capacity: { cpu: '8', memory: '16Gi', pods: '20' },
            allocatable: { cpu: '8', memory: '16Gi', pods: '20' },
            conditions: [
              {
                type: 'Ready',
                status: 'True',
                reason: 'KubeletReady',
                message: 'played by the test',
                lastHeartbeatTime: now,
                lastTransitionTime: this.readySince,
              },
            ],
          },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    for (const { process } of this.ran) process.child.kill('SIGKILL');
    await Promise.all(this.ran.map((r) => r.process.exited));
    await this.kc
      .makeApiClient(CoreV1Api)
      .deleteNode({ name: this.node })
      .catch(() => undefined);
  }
}
