import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import { loadAllYaml, loadYaml } from '@kubernetes/client-node';
import type { V1PodTemplateSpec } from '@kubernetes/client-node';
import { infraEnv, repoRoot } from '../../harness/index.js';

const run = promisify(execFile);
const workflows = join(repoRoot, '.github', 'workflows');
const COMPONENTS = ['api', 'relay', 'consumer', 'operator'] as const;
type Component = (typeof COMPONENTS)[number];

/** Stand-ins for the digests the images job outputs: well-formed, one per component, all different. */
const DIGESTS: Record<Component, string> = Object.fromEntries(
  COMPONENTS.map((c) => [c, `sha256:${createHash('sha256').update(`release-test-${c}`).digest('hex')}`]),
) as Record<Component, string>;
/** A fork's owner as GitHub spells it; the release lowercases it for GHCR. */
const OWNER = 'Example-Owner';
const NAMESPACE = 'example-owner';

/** Every workload of the umbrella rendered as release "shop", with the component whose image it runs. */
const UMBRELLA_WORKLOADS: Record<string, Component> = {
  'Deployment/shop-api': 'api',
  'Deployment/shop-relay': 'relay',
  'Deployment/shop-consumer': 'consumer',
  'Deployment/shop-operator': 'operator',
  // The api's migration hook, and the pre-delete hook that runs operator/dist/delete-pipelines.js.
  'Job/shop-api-migrate': 'api',
  'Job/shop-shopstream-delete-pipelines': 'operator',
};

interface Step {
  id?: string;
  uses?: string;
  run?: string;
  env?: Record<string, string>;
  with?: Record<string, unknown>;
}
interface Job {
  needs?: string | string[];
  outputs?: Record<string, string>;
  steps: Step[];
}

async function releaseJobs(): Promise<Record<string, Job>> {
  return loadYaml<{ jobs: Record<string, Job> }>(await readFile(join(workflows, 'release.yml'), 'utf8')).jobs;
}

function stepOf(job: Job, id: string): Step {
  const step = job.steps.find((s) => s.id === id);
  if (!step) throw new Error(`release.yml has no step with id ${id}`);
  return step;
}

/** The step's env with each `${{ <context> }}` replaced from `contexts`; an unknown one throws. */
function stepEnv(step: Step, contexts: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(step.env ?? {}).map(([name, value]) => {
      const context = /^\$\{\{\s*([\w.-]+)\s*\}\}$/.exec(value)?.[1];
      if (!context || !(context in contexts)) throw new Error(`${name}: no stand-in for ${value}`);
      return [name, contexts[context]!];
    }),
  );
}

/**
 * Runs a `run:` step as GitHub's runner does (its script in a file, `bash --noprofile --norc -eo
 * pipefail`). The script must not hold expressions: the runner would substitute them first.
 */
async function runStep(
  step: Step,
  cwd: string,
  env: Record<string, string>,
): Promise<{ stdout: string; stderr: string }> {
  if (!step.run) throw new Error(`step ${step.id} has no run: script`);
  if (step.run.includes('${{')) throw new Error(`step ${step.id}'s script holds an expression`);
  const dir = await mkdtemp(join(tmpdir(), 'release-step-'));
  try {
    const script = join(dir, 'step.sh');
    await writeFile(script, step.run);
    return await run('bash', ['--noprofile', '--norc', '-eo', 'pipefail', script], {
      cwd,
      env,
      maxBuffer: 32 * 1024 * 1024,
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Each file under DIR by its relative path, as a sha256 of its bytes. */
async function treeHashes(dir: string): Promise<Record<string, string>> {
  const hashes: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = join(entry.parentPath, entry.name);
    hashes[relative(dir, file)] = createHash('sha256')
      .update(await readFile(file))
      .digest('hex');
  }
  return hashes;
}

const failure = (err: unknown) => err as { code?: number; stdout?: string; stderr?: string };

describe('.github/workflows under actionlint', () => {
  let actionlint: string;
  let shellcheck: string;

  beforeAll(async () => {
    // infra/lib/tools.sh builds actionlint once into the cache (and installs shellcheck with it).
    const { stdout } = await run(
      'bash',
      [
        '-euo',
        'pipefail',
        '-c',
        '. infra/lib/common.sh && . infra/lib/tools.sh && actionlint_install >&2 && printf "%s\\n%s" "$ACTIONLINT_BIN" "$SHELLCHECK_BIN"',
      ],
      { cwd: repoRoot },
    );
    [actionlint, shellcheck] = stdout.split('\n') as [string, string];
  }, 600_000);

  /** actionlint's findings as JSON; shellcheck explicitly, since actionlint skips a missing one silently. */
  const lint = async (files: string[]) => {
    const args = [`-shellcheck=${shellcheck}`, '-pyflakes=', '-format', '{{json .}}', ...files];
    const result = await run(actionlint, args).then(
      ({ stdout }) => ({ code: 0, stdout }),
      (err: unknown) => ({ code: failure(err).code, stdout: failure(err).stdout ?? '' }),
    );
    return { code: result.code, findings: JSON.parse(result.stdout) as { kind: string; message: string }[] };
  };

  it('finds nothing in the repository workflows', async () => {
    const files = (await readdir(workflows)).filter((f) => /\.ya?ml$/.test(f)).sort();
    expect(files).toEqual(expect.arrayContaining(['ci.yml', 'release.yml']));

    const { code, findings } = await lint(files.map((f) => join(workflows, f)));

    expect(findings).toEqual([]);
    expect(code).toBe(0);
  });

  it('reports an unknown action input, a shell defect and an injectable expression', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'actionlint-'));
    try {
      const file = join(dir, '.github', 'workflows', 'broken.yml');
      await mkdir(dirname(file), { recursive: true });
      await writeFile(
        file,
        [
          'on: pull_request',
          'jobs:',
          '  broken:',
          '    runs-on: ubuntu-latest',
          '    steps:',
          '      - uses: actions/checkout@v6',
          '        with:',
          '          no-such-input: true',
          '      - run: echo $HOME ${{ github.event.pull_request.title }}',
          '',
        ].join('\n'),
      );

      const { code, findings } = await lint([file]);

      expect(code).toBe(1);
      expect(findings.map((f) => f.kind).sort()).toEqual(['action', 'expression', 'shellcheck']);
      expect(findings.find((f) => f.kind === 'shellcheck')?.message).toContain('SC2086');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('release.yml', () => {
  it('accepts only the tag v<version> of the charts, and names the images after the lowercased owner', async () => {
    const version = loadYaml<{ version: string }>(
      await readFile(join(repoRoot, 'charts', 'shopstream', 'Chart.yaml'), 'utf8'),
    ).version;
    const step = stepOf((await releaseJobs()).images!, 'version');
    const dir = await mkdtemp(join(tmpdir(), 'release-version-'));
    try {
      const output = join(dir, 'github-output');
      const check = async (refType: string, refName: string) => {
        await writeFile(output, '');
        return runStep(step, repoRoot, {
          PATH: process.env.PATH ?? '',
          GITHUB_REF_TYPE: refType,
          GITHUB_REF_NAME: refName,
          GITHUB_REPOSITORY_OWNER: OWNER,
          GITHUB_OUTPUT: output,
        }).then(
          () => ({ ok: true, stdout: '' }),
          (err: unknown) => ({ ok: false, stdout: failure(err).stdout ?? '' }),
        );
      };

      expect(await check('tag', `v${version}`)).toEqual({ ok: true, stdout: '' });
      expect((await readFile(output, 'utf8')).split('\n')).toEqual([
        `version=${version}`,
        `namespace=${NAMESPACE}`,
        '',
      ]);

      for (const [refType, refName] of [
        ['tag', `v${version}.1`],
        ['tag', version],
        // A branch of the tag's name is not the tag.
        ['branch', `v${version}`],
      ]) {
        const rejected = await check(refType!, refName!);
        expect(rejected.ok).toBe(false);
        expect(rejected.stdout).toContain(`::error::release v${version}`);
        expect(await readFile(output, 'utf8')).toBe('');
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("hands each component's pushed digest to the charts job", async () => {
    const { images, charts } = await releaseJobs();
    const dockerfile = await readFile(join(repoRoot, 'Dockerfile'), 'utf8');

    expect([charts!.needs].flat()).toContain('images');
    for (const component of COMPONENTS) {
      expect(dockerfile).toMatch(new RegExp(`^FROM \\S+ AS ${component}$`, 'm'));
      expect(stepOf(images!, component)).toMatchObject({
        uses: expect.stringMatching(/^docker\/build-push-action@v\d+$/),
        with: {
          context: '.',
          target: component,
          platforms: 'linux/amd64,linux/arm64',
          push: true,
          tags: `ghcr.io/\${{ steps.version.outputs.namespace }}/${component}:\${{ steps.version.outputs.version }}`,
        },
      });
      expect(images!.outputs?.[component]).toBe(`\${{ steps.${component}.outputs.digest }}`);
    }
  });

  describe('charts job: digests pinned, then packaged', () => {
    let work: string;

    beforeAll(async () => {
      work = await mkdtemp(join(tmpdir(), 'release-charts-'));
      // As a checkout has it: no dependency packaged by an earlier local build.
      await cp(join(repoRoot, 'charts'), join(work, 'charts'), {
        recursive: true,
        filter: (src) => !/[/\\]charts[/\\]shopstream[/\\](charts|Chart\.lock)/.test(src),
      });
    });
    afterAll(async () => {
      if (work) await rm(work, { recursive: true, force: true });
    });

    const helmEnv = () => ({
      // The workflow's azure/setup-helm puts helm on PATH; here it is infra's build of the same version.
      PATH: `${dirname(infraEnv().helm)}${delimiter}${process.env.PATH ?? ''}`,
      HOME: work,
      HELM_CACHE_HOME: join(work, 'helm', 'cache'),
      HELM_CONFIG_HOME: join(work, 'helm', 'config'),
      HELM_DATA_HOME: join(work, 'helm', 'data'),
    });

    const imagesOf = (template: V1PodTemplateSpec | undefined): string[] =>
      [...(template?.spec?.initContainers ?? []), ...(template?.spec?.containers ?? [])].map((c) => c.image!);

    it('renders every Deployment and Job of the packaged umbrella with its component image by digest, on a copy', async () => {
      const committed = await treeHashes(join(repoRoot, 'charts'));
      const { charts } = await releaseJobs();
      const contexts = {
        'needs.images.outputs.namespace': NAMESPACE,
        ...Object.fromEntries(COMPONENTS.map((c) => [`needs.images.outputs.${c}`, DIGESTS[c]])),
      };
      const pin = stepOf(charts!, 'pin-digests');
      await runStep(pin, work, { ...helmEnv(), ...stepEnv(pin, contexts) });
      await runStep(stepOf(charts!, 'package'), work, helmEnv());

      const packaged = join(work, 'dist', 'charts');
      expect((await readdir(packaged)).sort()).toEqual([
        expect.stringMatching(/^operator-.+\.tgz$/),
        expect.stringMatching(/^shopstream-.+\.tgz$/),
        expect.stringMatching(/^workload-.+\.tgz$/),
      ]);
      const umbrella = join(
        packaged,
        (await readdir(packaged)).find((f) => f.startsWith('shopstream-'))!,
      );
      const { stdout } = await run(infraEnv().helm, ['template', 'shop', umbrella, '--namespace', 'shop'], {
        env: helmEnv(),
        maxBuffer: 64 * 1024 * 1024,
      });
      const workloads = (
        loadAllYaml(stdout) as { kind?: string; metadata: { name: string }; spec: unknown }[]
      )
        .filter((o) => o && (o.kind === 'Deployment' || o.kind === 'Job'))
        .map((o) => ({
          key: `${o.kind}/${o.metadata.name}`,
          images: imagesOf((o.spec as { template?: V1PodTemplateSpec }).template),
        }));

      expect(workloads.map((w) => w.key).sort()).toEqual(Object.keys(UMBRELLA_WORKLOADS).sort());
      for (const { key, images } of workloads) {
        const component = UMBRELLA_WORKLOADS[key]!;
        expect({ key, images }).toEqual({
          key,
          images: [`ghcr.io/${NAMESPACE}/${component}@${DIGESTS[component]}`],
        });
      }
      expect(await treeHashes(join(repoRoot, 'charts'))).toEqual(committed);
    });
  });
});
