import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { dumpYaml, loadYaml } from '@kubernetes/client-node';
import type { V1Container, V1PodSpec } from '@kubernetes/client-node';
import { repoRoot } from '../../harness/index.js';

const run = promisify(execFile);

/** podman with the project's configuration (runtime runc, rlimits, storage): `infra/images.sh podman`. */
export async function podman(args: string[]): Promise<string> {
  try {
    return (
      await run('bash', ['infra/images.sh', 'podman', ...args], {
        cwd: repoRoot,
        maxBuffer: 32 * 1024 * 1024,
      })
    ).stdout;
  } catch (err) {
    const { stderr, stdout, message } = err as { stderr?: string; stdout?: string; message: string };
    throw new Error(`podman ${args.join(' ')}: ${stderr?.trim() || message}\n${stdout ?? ''}`, {
      cause: err,
    });
  }
}

export const localImage = (target: string): string => `localhost/shopstream/${target}:local`;

/** What a pod's env may take from outside the chart: Secrets' keys and the downward API's fields. */
export interface EnvSources {
  secrets?: Record<string, string>; // "<secret name>/<key>" → value
  fields?: Record<string, string>; // fieldPath → value
}

/**
 * `podman run` flags that run `container` of `pod` as Kubernetes would on a node, on the host
 * network: its user, read-only root filesystem, dropped capabilities, emptyDir mounts as tmpfs,
 * command, and env (values, Secret keys and downward-API fields from `sources`), then `overrides`.
 * An env source or a volume this does not know fails the test instead of being left out.
 */
export function runFlags(
  pod: V1PodSpec,
  container: V1Container,
  sources: EnvSources,
  overrides: Record<string, string> = {},
): { flags: string[]; command: string[] } {
  const flags = ['--network', 'host'];
  const sc = { ...pod.securityContext, ...container.securityContext };
  if (sc.runAsUser === undefined) throw new Error(`${container.name}: the chart sets no runAsUser`);
  flags.push('--user', `${sc.runAsUser}:${sc.runAsGroup ?? sc.runAsUser}`);
  if (container.securityContext?.readOnlyRootFilesystem) flags.push('--read-only');
  for (const cap of container.securityContext?.capabilities?.drop ?? []) flags.push('--cap-drop', cap);
  if (container.securityContext?.allowPrivilegeEscalation === false) {
    flags.push('--security-opt', 'no-new-privileges');
  }
  for (const mount of container.volumeMounts ?? []) {
    const volume = pod.volumes?.find((v) => v.name === mount.name);
    if (!volume?.emptyDir) throw new Error(`${container.name}: volume ${mount.name} is not an emptyDir`);
    flags.push('--tmpfs', mount.mountPath);
  }
  const env: Record<string, string> = {};
  for (const e of container.env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.valueFrom?.secretKeyRef) {
      const ref = `${e.valueFrom.secretKeyRef.name}/${e.valueFrom.secretKeyRef.key}`;
      const value = sources.secrets?.[ref];
      if (value === undefined)
        throw new Error(`${container.name}: no value for ${e.name} from Secret key ${ref}`);
      env[e.name] = value;
    } else if (e.valueFrom?.fieldRef) {
      const value = sources.fields?.[e.valueFrom.fieldRef.fieldPath];
      if (value === undefined)
        throw new Error(`${container.name}: no value for ${e.name} from ${e.valueFrom.fieldRef.fieldPath}`);
      env[e.name] = value;
    } else throw new Error(`${container.name}: env ${e.name} has a source this runner does not know`);
  }
  for (const [k, v] of Object.entries({ ...env, ...overrides })) flags.push('--env', `${k}=${v}`);
  return { flags, command: [...(container.command ?? []), ...(container.args ?? [])] };
}

/** Both streams of `podman logs`: a container's stderr comes out on podman's stderr. */
export async function containerLogs(container: string): Promise<string> {
  const { stdout, stderr } = await run('bash', ['infra/images.sh', 'podman', 'logs', container], {
    cwd: repoRoot,
    maxBuffer: 32 * 1024 * 1024,
  }).catch((err: { stdout?: string; stderr?: string; message: string }) => ({
    stdout: err.stdout ?? '',
    stderr: err.stderr ?? err.message,
  }));
  return `${stdout}${stderr}`;
}

type KubeconfigFile = {
  clusters?: { cluster: Record<string, string> }[];
  users?: { user: Record<string, string> }[];
};

/**
 * The kubeconfig at `path` with its certificate files inlined, in a folder the pod's non-root user
 * can read (the harness keeps its own in a root-only folder): the container's mount of it. Returns
 * the podman flags for the mount, the path inside the container and the folder to remove after.
 */
export async function kubeconfigMount(path: string): Promise<{ flags: string[]; path: string; dir: string }> {
  const config = loadYaml<KubeconfigFile>(readFileSync(path, 'utf8'));
  const inline = (entry: Record<string, string>, file: string, data: string): void => {
    if (!entry[file]) return;
    entry[data] = readFileSync(entry[file]!).toString('base64');
    delete entry[file];
  };
  for (const { cluster } of config.clusters ?? [])
    inline(cluster, 'certificate-authority', 'certificate-authority-data');
  for (const { user } of config.users ?? []) {
    inline(user, 'client-certificate', 'client-certificate-data');
    inline(user, 'client-key', 'client-key-data');
  }
  const dir = await mkdtemp(join(tmpdir(), 'image-kubeconfig-'));
  await chmod(dir, 0o755);
  await writeFile(join(dir, 'kubeconfig'), dumpYaml(config), { mode: 0o644 });
  return { flags: ['--volume', `${dir}:/kube:ro`], path: '/kube/kubeconfig', dir };
}
