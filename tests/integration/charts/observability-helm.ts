import { execFile } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadYaml } from '@kubernetes/client-node';
import { infraEnv, repoRoot } from '../../harness/index.js';

const run = promisify(execFile);

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [key: string]: unknown;
}

export interface Umbrella {
  /** The umbrella chart in the temporary copy, its file:// dependencies built into its charts/. */
  chart: string;
  helm(args: string[]): Promise<{ stdout: string; stderr: string }>;
  /** `helm template` with the given values files (relative to the umbrella chart) and --set flags. */
  template(options?: { values?: string[]; set?: string[]; namespace?: string }): Promise<Manifest[]>;
  remove(): Promise<void>;
}

/**
 * A copy of charts/ in a temporary directory with the umbrella's dependencies built (`helm
 * dependency update` writes charts/shopstream/charts/*.tgz and Chart.lock), so nothing is written
 * into the repository; Helm's own cache and config live there too.
 */
export async function prepareUmbrella(): Promise<Umbrella> {
  const dir = await mkdtemp(join(tmpdir(), 'shopstream-charts-'));
  await cp(join(repoRoot, 'charts'), join(dir, 'charts'), {
    recursive: true,
    filter: (src) => !/[/\\]charts[/\\]shopstream[/\\](charts|Chart\.lock)/.test(src),
  });
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: dir,
    HELM_CACHE_HOME: join(dir, 'helm', 'cache'),
    HELM_CONFIG_HOME: join(dir, 'helm', 'config'),
    HELM_DATA_HOME: join(dir, 'helm', 'data'),
  };
  const chart = join(dir, 'charts', 'shopstream');
  const helm = (args: string[]) =>
    run(infraEnv().helm, args, { env, cwd: dir, maxBuffer: 64 * 1024 * 1024 }).catch((err: unknown) => {
      const e = err as { stderr?: string; stdout?: string; message: string };
      throw new Error(`helm ${args.join(' ')} failed: ${e.stderr ?? ''}${e.stdout ?? ''}`, { cause: err });
    });
  await helm(['dependency', 'update', '--skip-refresh', chart]);
  return {
    chart,
    helm,
    async template({ values = [], set = [], namespace = 'shop' } = {}) {
      const { stdout } = await helm([
        'template',
        'shopstream',
        chart,
        '--namespace',
        namespace,
        ...values.flatMap((v) => ['--values', join(chart, v)]),
        ...set.flatMap((s) => ['--set', s]),
      ]);
      return parseManifests(stdout);
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** The objects of a multi-document YAML stream (empty and comment-only documents skipped). */
export function parseManifests(yaml: string): Manifest[] {
  return yaml
    .split(/^---\s*$/m)
    .filter((doc) => doc.split('\n').some((line) => line.trim() && !line.trim().startsWith('#')))
    .map((doc) => loadYaml<Manifest>(doc));
}

export const ofKind = (manifests: Manifest[], kind: string) => manifests.filter((m) => m.kind === kind);
