import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { repoRoot } from '../../harness/index.js';

/** k8s/versions.env: every pinned external chart and image version (the Tiltfile reads it too). */
export const externalVersionsFile = join(repoRoot, 'k8s', 'versions.env');

export interface ExternalVersions {
  STRIMZI_CHART_VERSION: string;
  STRIMZI_KAFKA_VERSION: string;
  KUBE_PROMETHEUS_STACK_CHART_VERSION: string;
  POSTGRES_IMAGE: string;
  [name: string]: string;
}

/**
 * The NAME=value lines of k8s/versions.env. Only what bash and the Tiltfile's parser read alike:
 * no quotes, spaces, `$` or backslashes in a value; anything else but comments and blank lines
 * is an error.
 */
export async function readExternalVersions(): Promise<ExternalVersions> {
  const versions: Record<string, string> = {};
  for (const [i, raw] of (await readFile(externalVersionsFile, 'utf8')).split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([A-Z][A-Z0-9_]*)=([^\s'"`$\\#]+)$/.exec(line);
    if (!m) throw new Error(`k8s/versions.env:${i + 1}: not a NAME=value line: ${line}`);
    versions[m[1]!] = m[2]!;
  }
  for (const name of [
    'STRIMZI_CHART_VERSION',
    'STRIMZI_KAFKA_VERSION',
    'KUBE_PROMETHEUS_STACK_CHART_VERSION',
    'POSTGRES_IMAGE',
  ])
    if (!versions[name]) throw new Error(`k8s/versions.env has no ${name}`);
  return versions as ExternalVersions;
}
