import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { infraEnv } from './infra.js';
import { freePort } from './processes.js';
import { waitFor } from './wait-for.js';

export interface PrivateKube {
  kubeconfigPath: string;
  kubeConfig: KubeConfig;
  /** Stops kube-apiserver (etcd keeps the data) and waits for it to exit. */
  stopApiserver(): Promise<void>;
  startApiserver(): Promise<void>;
  destroy(): Promise<void>;
}

export interface PrivateKubeOptions {
  /**
   * More kube-apiserver flags, e.g. `--audit-policy-file` and `--audit-log-path` for a test that
   * needs to see every request a client made (the shared API server is started without them).
   */
  apiserverArgs?: string[];
}

/**
 * A second etcd + kube-apiserver from the same binaries and PKI, for tests that restart the API
 * server or start it with flags of their own: the shared one other test files use stays up.
 */
export async function startPrivateKube(options: PrivateKubeOptions = {}): Promise<PrivateKube> {
  const env = infraEnv();
  const dir = await mkdtemp(join(tmpdir(), 'kube-'));
  const [client, peer, port] = [await freePort(), await freePort(), await freePort()];
  const pki = env.kubePki;
  const etcd = spawn(
    env.etcd,
    [
      '--name=private',
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=http://127.0.0.1:${client}`,
      `--advertise-client-urls=http://127.0.0.1:${client}`,
      `--listen-peer-urls=http://127.0.0.1:${peer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${peer}`,
      `--initial-cluster=private=http://127.0.0.1:${peer}`,
      '--unsafe-no-fsync=true',
    ],
    { stdio: 'ignore' },
  );
  const kubeconfigPath = join(dir, 'kubeconfig');
  await writeFile(
    kubeconfigPath,
    `apiVersion: v1
kind: Config
clusters: [{name: private, cluster: {server: "https://127.0.0.1:${port}", certificate-authority: "${pki}/ca.crt"}}]
users: [{name: admin, user: {client-certificate: "${pki}/admin.crt", client-key: "${pki}/admin.key"}}]
contexts: [{name: private, context: {cluster: private, user: admin}}]
current-context: private
`,
  );
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfigPath);
  let apiserver: ChildProcess | undefined;
  const startApiserver = async (): Promise<void> => {
    apiserver = spawn(
      env.kubeApiserver,
      [
        `--etcd-servers=http://127.0.0.1:${client}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        `--secure-port=${port}`,
        `--tls-cert-file=${pki}/apiserver.crt`,
        `--tls-private-key-file=${pki}/apiserver.key`,
        `--client-ca-file=${pki}/ca.crt`,
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-account-key-file=${pki}/sa.pub`,
        `--service-account-signing-key-file=${pki}/sa.key`,
        '--service-cluster-ip-range=10.0.0.0/24',
        '--authorization-mode=RBAC',
        '--endpoint-reconciler-type=none',
        `--cert-dir=${join(dir, 'certs')}`,
        '--disable-admission-plugins=ServiceAccount',
        ...(options.apiserverArgs ?? []),
      ],
      { stdio: 'ignore' },
    );
    // Ready for tests once its bootstrap created the default namespace, not merely when it answers.
    await waitFor(
      async () => Boolean(await kubeConfig.makeApiClient(CoreV1Api).readNamespace({ name: 'default' })),
      {
        description: `private kube-apiserver on ${port}`,
        timeoutMs: 90_000,
        intervalMs: 500,
      },
    );
  };
  const stopApiserver = async (): Promise<void> => {
    const p = apiserver;
    apiserver = undefined;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    await exited;
  };
  await startApiserver();
  return {
    kubeconfigPath,
    kubeConfig,
    startApiserver,
    stopApiserver,
    destroy: async () => {
      apiserver?.kill('SIGKILL');
      etcd.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    },
  };
}
