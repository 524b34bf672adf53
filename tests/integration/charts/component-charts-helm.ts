import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadAllYaml } from '@kubernetes/client-node';
import type { V1Container, V1Deployment, V1EnvVar, V1Job } from '@kubernetes/client-node';
import { infraEnv, repoRoot } from '../../harness/index.js';

const run = promisify(execFile);

export const chartDir = (chart: string): string => join(repoRoot, 'charts', chart);
export const fixture = (name: string): string => join(repoRoot, 'tests', 'fixtures', 'helm', name);

/** The production-like values of a component (tests/fixtures/helm/workload-<component>-production.yaml). */
export const productionFixture = (component: string): string =>
  fixture(`workload-${component}-production.yaml`);

/** What `helm` printed; rejects (with helm's stderr in the message) when it exits non-zero. */
export async function helm(args: string[]): Promise<string> {
  try {
    return (await run(infraEnv().helm, args, { maxBuffer: 32 * 1024 * 1024 })).stdout;
  } catch (err) {
    const { stderr, message } = err as { stderr?: string; message: string };
    throw new Error(stderr?.trim() || message, { cause: err });
  }
}

export interface RenderOptions {
  /** Values files, in order; objects are written to temporary files first. */
  values?: (string | Record<string, unknown>)[];
  set?: string[];
  /** The release name (default: shop). */
  release?: string;
}

/** `--values` flags for values files and objects (written to `dir` first). */
async function valuesFlags(dir: string, values: RenderOptions['values'] = []): Promise<string[]> {
  const flags: string[] = [];
  for (const [i, entry] of values.entries()) {
    let file = entry as string;
    if (typeof entry !== 'string') {
      file = join(dir, `values-${i}.json`);
      await writeFile(file, JSON.stringify(entry));
    }
    flags.push('--values', file);
  }
  return flags;
}

/** `helm template` of one chart of this repository (or a chart directory), parsed into objects. */
export async function render(chart: string, options: RenderOptions = {}): Promise<KubeObject[]> {
  const dir = await mkdtemp(join(tmpdir(), 'chart-values-'));
  try {
    const args = ['template', options.release ?? 'shop', chartPath(chart), '--namespace', 'shop'];
    args.push(...(await valuesFlags(dir, options.values)));
    for (const s of options.set ?? []) args.push('--set', s);
    return parseManifests(await helm(args));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `helm lint --strict` of one chart with values files and objects; what helm printed. */
export async function lint(chart: string, values: RenderOptions['values'] = []): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'chart-lint-'));
  try {
    return await helm(['lint', '--strict', chartPath(chart), ...(await valuesFlags(dir, values))]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const chartPath = (chart: string): string => (chart.includes('/') ? chart : chartDir(chart));

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
}

export const parseManifests = (text: string): KubeObject[] =>
  loadAllYaml(text).filter((o: unknown): o is KubeObject => Boolean(o && typeof o === 'object'));

export function only<T>(objects: KubeObject[], kind: string): T {
  const found = objects.filter((o) => o.kind === kind);
  if (found.length !== 1) throw new Error(`expected one ${kind}, rendered ${found.length}`);
  return found[0] as unknown as T;
}

export const deploymentOf = (objects: KubeObject[]): V1Deployment =>
  only<V1Deployment>(objects, 'Deployment');
export const jobOf = (objects: KubeObject[]): V1Job => only<V1Job>(objects, 'Job');

export function mainContainer(deployment: V1Deployment): V1Container {
  const containers = deployment.spec?.template.spec?.containers ?? [];
  if (containers.length !== 1) throw new Error(`expected one container, found ${containers.length}`);
  return containers[0]!;
}

/** A values file (or the chart's values.yaml) as an object. */
export const readValues = (file: string): Record<string, unknown> =>
  (loadAllYaml(readFileSync(file, 'utf8'))[0] ?? {}) as Record<string, unknown>;

export interface ConfigKeySchema {
  type: string;
  description?: string;
  default?: unknown;
  examples?: unknown[];
  enum?: unknown[];
}

/** The workload chart's values schema. */
export const workloadSchema = (): {
  properties: Record<string, unknown>;
  allOf: {
    if: { properties: { component?: { const: string } } };
    then: { properties: Record<string, unknown> };
  }[];
} => JSON.parse(readFileSync(join(chartDir('workload'), 'values.schema.json'), 'utf8'));

/** The `config` keys the workload chart's schema allows for a component, each with its JSON schema. */
export function schemaConfigKeys(component: string): Record<string, ConfigKeySchema> {
  const branch = workloadSchema().allOf.find((b) => b.if.properties.component?.const === component);
  if (!branch) throw new Error(`the workload schema has no branch for component ${component}`);
  return (branch.then.properties.config as { properties: Record<string, ConfigKeySchema> }).properties;
}

/** Plausible contents of the Secrets a chart references, by env var name. */
const secretStandIns: Record<string, string> = {
  DATABASE_URL: 'postgres://shop:pw@postgres.shop:5432/shop',
  JWT_SECRET: 'a-development-secret-of-at-least-32-characters',
  ADMIN_TOKEN: 'an-admin-token-for-tests-of-32-characters+',
  KAFKA_SASL_PASSWORD: 'kafka-password',
};

/**
 * The process environment a container would see: plain values as rendered, secretKeyRefs replaced
 * by stand-ins. Any other valueFrom is an error: the charts use none.
 */
export function envMap(env: V1EnvVar[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of env) {
    if (e.valueFrom) {
      const standIn = secretStandIns[e.name];
      if (!e.valueFrom.secretKeyRef || standIn === undefined) {
        throw new Error(`unexpected valueFrom for ${e.name}: ${JSON.stringify(e.valueFrom)}`);
      }
      out[e.name] = standIn;
    } else {
      out[e.name] = e.value ?? '';
    }
  }
  return out;
}

/**
 * Env var names the service's schema does not know. zod objects strip unknown keys, so a name
 * missing from the parsed config is one the schema does not declare.
 */
export function namesUnknownTo(
  parse: (env: Record<string, string>) => object,
  env: Record<string, string>,
): string[] {
  const parsed = parse(env);
  return Object.keys(env).filter((name) => !Object.prototype.hasOwnProperty.call(parsed, name));
}
