import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the real services of `infra/infra.sh up` listen, and the tools that check them. */
export interface InfraEnv {
  databaseUrl: string;
  kafkaBrokers: string;
  kafkaClasspath: string;
  kafkaLog4jConfig: string;
  kubeconfig: string;
  etcd: string;
  kubeApiserver: string;
  kubePki: string;
  kubectl: string;
  helm: string;
  /** kube-controller-manager, kube-scheduler and kwok were healthy when the environment was read. */
  controlPlane: boolean;
  /** The fake node kwok manages; the scheduler puts pods there. */
  kwokNode: string;
  promtool: string;
  prometheus: string;
  runDir: string;
  versions: { postgres: string; kafka: string; kubernetes: string; etcd: string; helm: string; kwok: string };
}

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const infraScript = join(repoRoot, 'infra', 'infra.sh');

let cached: InfraEnv | undefined;

/**
 * The endpoints of the running infrastructure. Global setup puts them in the environment once;
 * outside jest (or when it did not run) the infra script is asked directly.
 */
export function infraEnv(): InfraEnv {
  if (cached) return cached;
  const fromSetup = process.env.SHOPSTREAM_INFRA;
  const json = fromSetup ?? execFileSync('bash', [infraScript, 'env', '--json'], { encoding: 'utf8' });
  cached = JSON.parse(json) as InfraEnv;
  return cached;
}
