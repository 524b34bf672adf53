import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CoreV1Api, loadYaml } from '@kubernetes/client-node';
import {
  infraEnv,
  installFixtureCrd,
  installPipelineCrd,
  kubeConfig,
  randomNamespace,
  repoRoot,
} from '../../harness/index.js';

const run = promisify(execFile);

/** The fixture CRDs for every foreign kind a chart renders (Strimzi, KEDA, prometheus-operator). */
const FIXTURE_CRDS = [
  'kafkatopics.kafka.strimzi.io.yaml',
  'kafkas.kafka.strimzi.io.yaml',
  'kafkanodepools.kafka.strimzi.io.yaml',
  'kafkausers.kafka.strimzi.io.yaml',
  'scaledobjects.keda.sh.yaml',
  'triggerauthentications.keda.sh.yaml',
  'prometheusrules.monitoring.coreos.com.yaml',
  'podmonitors.monitoring.coreos.com.yaml',
  'servicemonitors.monitoring.coreos.com.yaml',
];

/**
 * Every chart, rendered with each of its values profiles, is accepted by the real kube-apiserver
 * (`kubectl apply --dry-run=server`: admission, schema and CEL validation, no objects stored).
 */
describe('rendered charts against the real kube-apiserver', () => {
  const env = infraEnv();
  const kc = kubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const namespace = randomNamespace('charts');
  let work: string;

  beforeAll(async () => {
    await installPipelineCrd(kc);
    for (const crd of FIXTURE_CRDS) await installFixtureCrd(kc, crd);
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    // The umbrella's file:// dependencies are packaged into a copy, never into the repository.
    work = await mkdtemp(join(tmpdir(), 'charts-'));
    await cp(join(repoRoot, 'charts'), join(work, 'charts'), { recursive: true });
    await run(env.helm, ['dependency', 'build', join(work, 'charts', 'shopstream')]);
  });
  afterAll(async () => {
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
    if (work) await rm(work, { recursive: true, force: true });
  });

  const render = async (chart: string, valuesFiles: string[]): Promise<string> => {
    const args = [
      'template',
      'shop',
      join(work, 'charts', chart),
      '--namespace',
      namespace,
      '--include-crds',
    ];
    for (const f of valuesFiles) args.push('--values', f);
    return (await run(env.helm, args, { maxBuffer: 64 * 1024 * 1024 })).stdout;
  };
  /**
   * Applies rendered manifests with --dry-run=server, each object in its own namespace: most carry
   * none (the release namespace), some name another (e.g. dashboards for Grafana in `monitoring`).
   * @returns kubectl's output lines, one per object.
   */
  const applyDryRun = async (manifests: string): Promise<string[]> => {
    const byNamespace = new Map<string, string[]>();
    for (const doc of manifests.split(/^---\s*$/m)) {
      if (!/^kind: /m.test(doc)) continue; // comments only
      const object = loadYaml<{ metadata?: { namespace?: string } }>(doc);
      const ns = object.metadata?.namespace ?? namespace;
      byNamespace.set(ns, [...(byNamespace.get(ns) ?? []), doc]);
    }
    const lines: string[] = [];
    for (const [ns, docs] of byNamespace) {
      if (ns !== namespace)
        await core.createNamespace({ body: { metadata: { name: ns } } }).catch(() => undefined);
      const file = join(work, `rendered-${Date.now()}-${Math.random().toString(16).slice(2)}.yaml`);
      await writeFile(file, docs.join('\n---\n'));
      const { stdout } = await run(
        env.kubectl,
        [
          '--kubeconfig',
          env.kubeconfig,
          'apply',
          '--dry-run=server',
          '--validate=strict',
          '-n',
          ns,
          '-f',
          file,
        ],
        { maxBuffer: 64 * 1024 * 1024 },
      );
      lines.push(...stdout.split('\n').filter((l) => l.includes('(server dry run)')));
    }
    return lines;
  };

  /** A values file choosing the workload chart's component (its own name is none of them). */
  const componentValues = async (component: string): Promise<string> => {
    const file = join(work, `component-${component}.json`);
    await writeFile(file, JSON.stringify({ component }));
    return file;
  };

  /**
   * Each chart with its default values (the workload chart's as each component) and every profile
   * the repository ships for it.
   */
  const profiles = async (chart: string): Promise<string[][]> => {
    const sets: string[][] =
      chart === 'workload'
        ? await Promise.all(['api', 'relay', 'consumer'].map(async (c) => [await componentValues(c)]))
        : [[]];
    const chartDir = join(repoRoot, 'charts', chart);
    for (const f of (await readdir(chartDir)).filter((n) => /^values-.+\.yaml$/.test(n)).sort()) {
      sets.push([join(chartDir, f)]);
    }
    const fixtures = join(repoRoot, 'tests', 'fixtures', 'helm');
    if (existsSync(fixtures)) {
      for (const f of (await readdir(fixtures)).filter((n) => n.startsWith(`${chart}-`)).sort()) {
        sets.push([join(fixtures, f)]);
      }
    }
    return sets;
  };

  it.each(['workload', 'operator', 'shopstream'])(
    'chart %s: every values profile renders manifests the API server accepts',
    async (chart) => {
      const sets = await profiles(chart);
      for (const values of sets) {
        const manifests = await render(chart, values);
        const accepted = await applyDryRun(manifests);
        const kinds = (manifests.match(/^kind: \w+/gm) ?? []).length;
        // kubectl prints one "... (server dry run)" line per object.
        expect(accepted).toHaveLength(kinds);
      }
      expect(sets.length).toBeGreaterThanOrEqual({ workload: 6, shopstream: 3 }[chart] ?? 1);
    },
  );

  it('the check can fail: a rendered object the API server would refuse is refused', async () => {
    const manifests = await render('workload', [await componentValues('relay')]);
    const broken = manifests.replace(/^(\s+)containers:/m, '$1containers: "none"\n$1unused:');
    expect(broken).not.toBe(manifests);
    await expect(applyDryRun(broken)).rejects.toThrow(/containers|Invalid|invalid|unknown field/);
  });
});
