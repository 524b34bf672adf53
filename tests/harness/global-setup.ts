import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * Jest global setup of the integration project: real PostgreSQL, Kafka and kube-apiserver, brought
 * up once per run (healthy services are reused), their endpoints handed to the workers through the
 * environment. Jest loads this file outside its ESM loader, so it imports nothing of ours.
 */
export default function globalSetup(_global: unknown, project: { rootDir: string }): void {
  const script = join(project.rootDir, 'infra', 'infra.sh');
  execFileSync('bash', [script, 'up'], { stdio: ['ignore', 'inherit', 'inherit'] });
  process.env.SHOPSTREAM_INFRA = execFileSync('bash', [script, 'env', '--json'], { encoding: 'utf8' });
}
