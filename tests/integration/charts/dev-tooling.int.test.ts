import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { CoreV1Api } from '@kubernetes/client-node';
import {
  infraEnv,
  installFixtureCrd,
  installPipelineCrd,
  kubeConfig,
  randomNamespace,
  repoRoot,
} from '../../harness/index.js';
import { readExternalVersions } from './external-versions.js';
import type { ExternalVersions } from './external-versions.js';

const run = promisify(execFile);

/*
 * Tilt cannot run here (no kind, no kubelet), so this file checks the setup with what we have
 * (the images themselves are built with podman and run by tests/integration/images):
 * - Dockerfile: its targets, users, commands and build context, which the Tiltfile's builds name.
 * - Tiltfile: executed by python3 against stubs of Tilt's builtins that run the real helm and the
 *   real scripts, so what Tilt would apply goes to the real kube-apiserver (dry-run), and the
 *   resources, dependencies, port-forwards and image builds are checked against the rendered
 *   objects and the Dockerfile.
 */

// ---------------------------------------------------------------------------------------------
// Dockerfile

interface Instruction {
  op: string;
  args: string;
  line: number;
}
interface Stage {
  name: string;
  from: string;
  instructions: Instruction[];
}

function parseDockerfile(text: string): { args: Record<string, string>; stages: Map<string, Stage> } {
  const args: Record<string, string> = {};
  const stages = new Map<string, Stage>();
  let current: Stage | undefined;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!;
    const lineNo = i + 1;
    if (/^\s*(#|$)/.test(line)) continue;
    while (line.endsWith('\\')) line = `${line.slice(0, -1)} ${lines[++i]!.trim()}`;
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!m) throw new Error(`Dockerfile:${lineNo}: cannot parse "${line}"`);
    const op = m[1]!.toUpperCase();
    const rest = m[2]!.trim();
    if (op === 'FROM') {
      const f = /^(\S+)\s+AS\s+(\S+)$/i.exec(rest);
      if (!f) throw new Error(`Dockerfile:${lineNo}: every stage must be named (FROM x AS name)`);
      current = { name: f[2]!, from: f[1]!, instructions: [] };
      stages.set(current.name, current);
    } else if (!current) {
      if (op !== 'ARG') throw new Error(`Dockerfile:${lineNo}: ${op} before the first FROM`);
      const a = /^(\w+)=(\S+)$/.exec(rest);
      if (a) args[a[1]!] = a[2]!;
    } else {
      current.instructions.push({ op, args: rest, line: lineNo });
    }
  }
  return { args, stages };
}

const dockerfile = parseDockerfile(readFileSync(join(repoRoot, 'Dockerfile'), 'utf8'));

/** Docker's .dockerignore semantics: the last matching pattern (or a parent's match) decides. */
function dockerignore(): (path: string) => boolean {
  const rules = readFileSync(join(repoRoot, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const pattern = (negate ? l.slice(1) : l).replace(/^\/+|\/+$/g, '');
      let re = '';
      for (let i = 0; i < pattern.length; i++) {
        const c = pattern[i]!;
        if (c === '*' && pattern[i + 1] === '*') {
          re += pattern[i + 2] === '/' ? '(?:.*/)?' : '.*';
          i += pattern[i + 2] === '/' ? 2 : 1;
        } else if (c === '*') re += '[^/]*';
        else if (c === '?') re += '[^/]';
        else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
      }
      return { negate, re: new RegExp(`^${re}$`) };
    });
  return (path: string) => {
    const prefixes = path.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/'));
    let excluded = false;
    for (const rule of rules) if (prefixes.some((p) => rule.re.test(p))) excluded = !rule.negate;
    return excluded;
  };
}

/** The build-context COPY sources of a stage and of every stage it derives from. */
function contextSources(target: string): string[] {
  const sources: string[] = [];
  for (let stage = dockerfile.stages.get(target); stage; stage = dockerfile.stages.get(stage.from)) {
    for (const ins of stage.instructions) {
      if (ins.op !== 'COPY' || ins.args.includes('--from=')) continue;
      const parts = ins.args.split(/\s+/).filter((p) => !p.startsWith('--'));
      sources.push(...parts.slice(0, -1));
    }
  }
  return sources;
}

const PRODUCTION_TARGETS = {
  api: { cmd: ['node', 'services/api/dist/main.js'], port: '8080' },
  relay: { cmd: ['node', 'services/relay/dist/main.js'], port: '9464' },
  consumer: { cmd: ['node', 'services/consumer/dist/main.js'], port: '9465' },
  operator: { cmd: ['node', 'operator/dist/main.js'], port: '9466' },
} as const;
type Component = keyof typeof PRODUCTION_TARGETS;
const COMPONENTS = Object.keys(PRODUCTION_TARGETS) as Component[];

describe('Dockerfile', () => {
  it('has a production and a dev target per component, non-root, with the contract commands', () => {
    for (const c of COMPONENTS) {
      for (const target of [c, `${c}-dev`]) {
        const stage = dockerfile.stages.get(target);
        expect(stage).toBeDefined();
        const last = (op: string) => stage!.instructions.filter((i) => i.op === op).pop()?.args;
        expect(last('USER')).toBe('10001:10001');
        expect(last('EXPOSE')).toBe(PRODUCTION_TARGETS[c].port);
        const cmd = JSON.parse(last('CMD')!) as string[];
        if (target === c) expect(cmd).toEqual(PRODUCTION_TARGETS[c].cmd);
        else expect(cmd).toEqual(['node', '--watch', PRODUCTION_TARGETS[c].cmd[1]]);
      }
      // A production image never derives from a stage holding the dev dependencies.
      const chain: string[] = [];
      for (let s = dockerfile.stages.get(c); s; s = dockerfile.stages.get(s.from)) chain.push(s.name);
      expect(chain).not.toContain('deps');
      expect(dockerfile.stages.get(chain[chain.length - 1]!)!.from).toMatch(/^(node:26-|\$\{NODE_IMAGE\})/);
    }
    expect(dockerfile.args.NODE_IMAGE).toMatch(/^node:26-trixie-slim$/);
  });

  it('has a build context, through .dockerignore, of manifests and sources only', () => {
    const ignored = dockerignore();
    for (const kept of [
      'package.json',
      'package-lock.json',
      'services/api/src/main.ts',
      'operator/src/main.ts',
    ])
      expect(ignored(kept)).toBe(false);
    for (const gone of [
      'node_modules/zod/package.json',
      'services/api/dist/main.js',
      'services/api/src/app.test.ts',
      '.git/HEAD',
      '.env',
      'charts/shopstream/Chart.yaml',
      'tests/integration/charts/dev-tooling.int.test.ts',
    ])
      expect(ignored(gone)).toBe(true);
    for (const c of COMPONENTS)
      for (const src of contextSources(c)) expect(existsSync(join(repoRoot, src))).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// Tiltfile

/** Tilt's builtins as stubs: helm and local() run for real, the rest records what Tilt would do. */
const TILT_STUB = String.raw`
import ast, json, os, subprocess, sys, yaml

repo, context, flags = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
source = open(os.path.join(repo, 'Tiltfile')).read()
tree = ast.parse(source, 'Tiltfile')

# Python constructs Starlark does not have (Tilt enables while, sets, recursion, top-level if/for).
BANNED = (ast.ClassDef, ast.Try, ast.With, ast.Import, ast.ImportFrom, ast.JoinedStr, ast.Global,
          ast.Nonlocal, ast.Yield, ast.YieldFrom, ast.AsyncFunctionDef, ast.Await, ast.Raise,
          ast.Assert, ast.Delete, ast.GeneratorExp, ast.NamedExpr, ast.Is, ast.IsNot, ast.SetComp)
problems = ['line %d: %s is not Starlark' % (n.lineno if hasattr(n, 'lineno') else 0, type(n).__name__)
            for n in ast.walk(tree) if isinstance(n, BANNED)]
problems += ['line %d: the first load() must come before use' % n.lineno for n in ast.walk(tree)
             if isinstance(n, ast.Call) and getattr(n.func, 'id', '') == 'load' and n.col_offset != 0]

class TiltFail(Exception):
    pass

class Blob(str):
    pass

record = {'problems': problems, 'failed': None, 'objects': [], 'resources': [], 'k8s_resources': [],
          'builds': [], 'locals': [], 'watched': [], 'helm': [], 'k8s_yaml_files': []}

def check_path(p):
    if not os.path.exists(os.path.join(repo, p)):
        raise TiltFail('path does not exist: %s' % p)

def parse(text):
    return [o for o in yaml.safe_load_all(text) if o]

def k8s_yaml(x):
    if isinstance(x, Blob):
        record['objects'] += parse(x)
    else:
        for p in ([x] if isinstance(x, str) else x):
            check_path(p)
            record['k8s_yaml_files'].append(p)
            record['objects'] += parse(open(os.path.join(repo, p)).read())

def local(cmd, quiet=False, echo_off=False, **kw):
    out = subprocess.run(cmd, shell=isinstance(cmd, str), cwd=repo, capture_output=True, text=True)
    record['locals'].append({'cmd': cmd, 'quiet': quiet, 'echo_off': echo_off, 'code': out.returncode})
    if out.returncode != 0:
        raise TiltFail('local(%s) failed: %s' % (cmd, out.stderr))
    return Blob(out.stdout)

def helm(path, name='', namespace='', values=[], set=[], **kw):
    cmd = [os.environ['HELM'], 'template', name or 'chart', path, '--include-crds']
    if namespace:
        cmd += ['--namespace', namespace]
    for v in values:
        check_path(v)
        cmd += ['--values', v]
    for s in set:
        cmd += ['--set', s]
    record['helm'].append(cmd[1:])
    out = subprocess.run(cmd, cwd=repo, capture_output=True, text=True)
    if out.returncode != 0:
        raise TiltFail('helm template failed: %s' % out.stderr)
    objs = parse(out.stdout)
    if namespace:
        # What Tilt's helm() does: every object gets the namespace unless it names one.
        for o in objs:
            o.setdefault('metadata', {}).setdefault('namespace', namespace)
    return Blob(yaml.safe_dump_all(objs))

def decode_yaml_stream(text):
    return parse(text)

def resource(kind, name, **kw):
    record['resources'].append(dict(kw, kind=kind, name=name))

def helm_repo(name, url, resource_name='', **kw):
    resource('helm_repo', resource_name or name, url=url, resource_deps=[], **kw)

def helm_resource(name, chart, namespace=None, flags=None, resource_deps=[], port_forwards=[], **kw):
    resource('helm_resource', name, chart=chart, namespace=namespace, flags=flags or [],
             resource_deps=resource_deps, port_forwards=port_forwards, **kw)

def load(module, *names):
    if module != 'ext://helm_resource' or set(names) - {'helm_resource', 'helm_repo'}:
        raise TiltFail('unexpected load(%s, %s)' % (module, names))

def local_resource(name, cmd=None, serve_cmd=None, resource_deps=[], **kw):
    resource('local_resource', name, cmd=cmd, serve_cmd=serve_cmd, resource_deps=resource_deps, **kw)

def k8s_resource(workload='', new_name='', objects=[], port_forwards=[], resource_deps=[], links=[], **kw):
    record['k8s_resources'].append({'workload': workload, 'new_name': new_name, 'objects': objects,
        'port_forwards': port_forwards, 'resource_deps': resource_deps, 'links': links})

def docker_build(ref, context, target='', only=[], live_update=[], dockerfile='Dockerfile', **kw):
    record['builds'].append({'ref': ref, 'context': context, 'target': target, 'only': only,
                             'live_update': live_update, 'dockerfile': dockerfile})

def watch_file(p):
    check_path(p)
    record['watched'].append(p)

def read_file(p, default=None):
    # Tilt watches what it reads.
    watch_file(p)
    return Blob(open(os.path.join(repo, p)).read())

def fail(msg):
    raise TiltFail(msg)

class Config:
    tilt_subcommand = flags.pop('_subcommand', 'up')
    def define_bool(self, name, usage=''):
        pass
    def parse(self):
        return flags

env = {
    'load': load, 'config': Config(), 'k8s_context': lambda: context, 'allow_k8s_contexts': lambda c: None,
    'fail': fail, 'local': local, 'k8s_yaml': k8s_yaml, 'helm': helm, 'decode_yaml_stream': decode_yaml_stream,
    'helm_repo': helm_repo, 'helm_resource': helm_resource, 'local_resource': local_resource,
    'k8s_resource': k8s_resource, 'docker_build': docker_build, 'watch_file': watch_file,
    'read_file': read_file,
    'sync': lambda src, dest: {'sync': [src, dest]},
    'run': lambda cmd, trigger=[]: {'run': cmd, 'trigger': trigger},
    'fall_back_on': lambda files: {'fall_back_on': files},
    'port_forward': lambda local_port, container_port=None, name='', link_path='', **kw:
        {'local': local_port, 'container': container_port or local_port, 'name': name, 'link_path': link_path},
    'link': lambda url, name='': {'url': url, 'name': name},
}
try:
    exec(compile(tree, 'Tiltfile', 'exec'), env)
except TiltFail as e:
    record['failed'] = str(e)
print(json.dumps(record))
`;

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}
interface PortForward {
  local: number;
  container: number;
  name: string;
  link_path: string;
}
interface TiltRecord {
  problems: string[];
  failed: string | null;
  objects: K8sObject[];
  resources: { kind: string; name: string; resource_deps: string[]; [k: string]: unknown }[];
  k8s_resources: {
    workload: string;
    new_name: string;
    objects: string[];
    port_forwards: PortForward[];
    resource_deps: string[];
    links: { url: string; name: string }[];
  }[];
  builds: {
    ref: string;
    context: string;
    target: string;
    only: string[];
    dockerfile: string;
    live_update: (
      { sync: [string, string] } | { run: string; trigger: string[] } | { fall_back_on: string[] }
    )[];
  }[];
  locals: { cmd: string | string[]; quiet: boolean; echo_off: boolean }[];
  watched: string[];
  helm: string[][];
}

interface PodSpec {
  containers: {
    name: string;
    image: string;
    ports?: { containerPort: number }[];
    env?: { name: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
    securityContext?: { readOnlyRootFilesystem?: boolean };
  }[];
  volumes?: { name: string; [source: string]: unknown }[];
}
const podSpec = (o: K8sObject): PodSpec => (o.spec as { template: { spec: PodSpec } }).template.spec;
const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob', 'ReplicaSet', 'Pod'];

describe('Tiltfile', () => {
  const env = infraEnv();
  let work: string;
  let home: string;
  let versions: ExternalVersions;

  const tilt = async (context: string, flags: Record<string, boolean | string> = {}): Promise<TiltRecord> => {
    const { stdout } = await run(
      'python3',
      [join(work, 'tilt_stub.py'), repoRoot, context, JSON.stringify(flags)],
      {
        env: {
          PATH: `${dirname(env.helm)}:${process.env.PATH ?? ''}`,
          HELM: env.helm,
          HOME: home,
          TMPDIR: work,
        },
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    return JSON.parse(stdout) as TiltRecord;
  };

  beforeAll(async () => {
    versions = await readExternalVersions();
    work = await mkdtemp(join(tmpdir(), 'tilt-'));
    home = join(work, 'home');
    await mkdir(home);
    await writeFile(join(work, 'tilt_stub.py'), TILT_STUB);
  });
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('is Starlark that refuses any kube context but kind-*, before touching anything', async () => {
    for (const context of [
      'gke_prod_europe-west1_shop',
      'docker-desktop',
      'kubernetes-admin@kubernetes',
      'kind',
    ]) {
      const rec = await tilt(context);
      expect(rec.problems).toEqual([]);
      expect(rec.failed).toContain(`refusing to run against kube context "${context}"`);
      expect(rec.objects).toEqual([]);
      expect(rec.locals).toEqual([]);
      expect(rec.builds).toEqual([]);
    }
    expect(existsSync(join(home, '.cache'))).toBe(false);
  });

  describe('on kind with the default flags', () => {
    let rec: TiltRecord;
    const kc = kubeConfig();
    const core = kc.makeApiClient(CoreV1Api);
    const namespace = randomNamespace('tilt');

    beforeAll(async () => {
      rec = await tilt('kind-shopstream');
      await installPipelineCrd(kc);
      for (const crd of ['kafkas.kafka.strimzi.io.yaml', 'kafkanodepools.kafka.strimzi.io.yaml'])
        await installFixtureCrd(kc, crd);
      await core.createNamespace({ body: { metadata: { name: namespace } } });
    }, 120_000);
    afterAll(async () => {
      await core.deleteNamespace({ name: namespace }).catch(() => undefined);
    });

    const byKind = (kind: string) => rec.objects.filter((o) => o.kind === kind);
    const named = (kind: string, name: string) => byKind(kind).find((o) => o.metadata.name === name);

    it('loads', () => {
      expect(rec.problems).toEqual([]);
      expect(rec.failed).toBeNull();
      for (const p of rec.watched) expect(existsSync(join(repoRoot, p))).toBe(true);
      // The umbrella is rendered from a scratch copy: no packaged dependency lands in the repo.
      expect(existsSync(join(repoRoot, 'charts/shopstream/charts'))).toBe(false);
      expect(rec.helm[0]).toEqual(expect.arrayContaining(['--values', 'charts/shopstream/values-dev.yaml']));
    });

    it('applies objects the real kube-apiserver accepts', async () => {
      // Into a random namespace: the stack's own `shop` would outlive the test (no controller-manager).
      const objects = rec.objects
        .filter((o) => o.kind !== 'Namespace')
        .map((o) => (o.metadata.namespace === 'shop' ? { ...o, metadata: { ...o.metadata, namespace } } : o));
      expect(rec.objects.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name)).toEqual(['shop']);
      const file = join(work, 'tilt-objects.json');
      await writeFile(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
      const { stdout } = await run(
        env.kubectl,
        ['--kubeconfig', env.kubeconfig, 'apply', '--dry-run=server', '--validate=strict', '-f', file],
        { maxBuffer: 64 * 1024 * 1024 },
      );
      expect(stdout.trim().split('\n')).toHaveLength(objects.length);
      for (const kind of ['Deployment', 'Job', 'Kafka', 'KafkaNodePool', 'ProductPipeline', 'Secret'])
        expect(byKind(kind).length).toBeGreaterThan(0);
    });

    it('runs the development PostgreSQL image of k8s/versions.env, read like every pin from there', () => {
      expect(rec.watched).toContain('k8s/versions.env');
      const postgres = named('Deployment', 'shopstream-postgres')!;
      expect(podSpec(postgres).containers.map((c) => c.image)).toEqual([versions.POSTGRES_IMAGE]);
    });

    it('generates the dev Secrets outside the repository, once, never echoed', async () => {
      const secretsRun = rec.locals.find((l) => JSON.stringify(l.cmd).includes('dev-secrets.sh'))!;
      expect(secretsRun).toMatchObject({ quiet: true, echo_off: true });
      const file = join(home, '.cache/shopstream/kind-dev-secrets.env');
      expect(statSync(file).mode & 0o077).toBe(0);
      const db = named('Secret', 'shopstream-db')!;
      const jwt = named('Secret', 'shopstream-jwt')!;
      const password = db.stringData!.password!;
      expect(password).toMatch(/^[0-9a-f]{48}$/);
      expect(db.stringData!.url).toBe(
        `postgres://shopstream:${password}@shopstream-postgres.shop.svc:5432/shopstream`,
      );
      expect(jwt.stringData!.secret!.length).toBeGreaterThanOrEqual(32);
      expect(await readFile(file, 'utf8')).toContain(password);
      // A reload keeps the database's password.
      const again = await tilt('kind-shopstream');
      expect(again.objects.find((o) => o.metadata.name === 'shopstream-db')!.stringData).toEqual(
        db.stringData,
      );
      const tracked = (
        await run('git', ['grep', '-l', password], { cwd: repoRoot }).catch(() => ({ stdout: '' }))
      ).stdout;
      expect(tracked).toBe('');
    });

    it('gives every secretKeyRef of the stack a Secret and key it creates', () => {
      const secrets = new Map(byKind('Secret').map((s) => [s.metadata.name, s]));
      let refs = 0;
      for (const o of rec.objects.filter((x) => ['Deployment', 'Job'].includes(x.kind))) {
        for (const c of podSpec(o).containers)
          for (const e of c.env ?? []) {
            const ref = e.valueFrom?.secretKeyRef;
            if (!ref) continue;
            refs++;
            const secret = secrets.get(ref.name);
            expect({ object: o.metadata.name, ref, found: Boolean(secret) }).toMatchObject({ found: true });
            expect(Object.keys(secret!.stringData ?? secret!.data ?? {})).toContain(ref.key);
          }
      }
      expect(refs).toBeGreaterThanOrEqual(5);
    });

    it('groups resources the way Tilt assembles them, with explicit order and port-forwards', () => {
      const workloads = rec.objects.filter((o) => WORKLOAD_KINDS.includes(o.kind));
      const names = new Set<string>(workloads.map((w) => w.metadata.name));
      const fragments = new Map<string, number>();
      for (const o of rec.objects) {
        const parts = [o.metadata.name, o.kind.toLowerCase(), o.metadata.namespace ?? 'default'];
        for (let i = 1; i <= 3; i++) {
          const f = parts.slice(0, i).join(':');
          fragments.set(f, (fragments.get(f) ?? 0) + 1);
        }
      }
      for (const r of rec.k8s_resources) {
        if (r.workload) {
          expect(names.has(r.workload)).toBe(true);
          names.delete(r.workload);
          names.add(r.new_name || r.workload);
        } else {
          expect(r.new_name).toBeTruthy();
          names.add(r.new_name);
        }
        for (const f of r.objects)
          expect({ fragment: f, matches: fragments.get(f) }).toEqual({ fragment: f, matches: 1 });
      }
      for (const r of rec.resources) names.add(r.name);

      // Every dependency exists, and there is no cycle.
      const deps = new Map<string, string[]>();
      for (const r of rec.k8s_resources) deps.set(r.new_name || r.workload, r.resource_deps);
      for (const r of rec.resources) deps.set(r.name, r.resource_deps);
      for (const [name, ds] of deps)
        for (const d of ds) expect({ name, dep: d, known: names.has(d) }).toMatchObject({ known: true });
      const depth = (n: string, seen: string[] = []): number => {
        if (seen.includes(n)) throw new Error(`resource_deps cycle: ${[...seen, n].join(' → ')}`);
        return 1 + Math.max(0, ...(deps.get(n) ?? []).map((d) => depth(d, [...seen, n])));
      };
      const dependsOn = (n: string, target: string): boolean =>
        (deps.get(n) ?? []).some((d) => d === target || dependsOn(d, target));
      for (const n of deps.keys()) depth(n);

      expect(dependsOn('shopstream-api', 'postgres')).toBe(true);
      expect(dependsOn('shopstream-api', 'migrations')).toBe(true);
      expect(dependsOn('migrations', 'dev-secrets')).toBe(true);
      for (const w of ['shopstream-relay', 'shopstream-consumer']) {
        expect(dependsOn(w, 'migrations')).toBe(true);
        expect(dependsOn(w, 'kafka-ready')).toBe(true);
        // Not before the operator has made the pipeline's topics (through Strimzi KafkaTopics).
        expect(dependsOn(w, 'topics-ready')).toBe(true);
      }
      expect(dependsOn('topics-ready', 'pipeline')).toBe(true);
      const topicsReady = rec.resources.find((r) => r.name === 'topics-ready') as unknown as {
        cmd: string[];
      };
      expect(topicsReady.cmd).toEqual(
        expect.arrayContaining(['wait', 'productpipeline/products', '--for=condition=TopicsReady']),
      );
      // The dev database keeps its data across pod restarts: a claim, not an emptyDir.
      const postgres = named('Deployment', 'shopstream-postgres')!;
      expect(podSpec(postgres).volumes?.find((v) => v.name === 'data')).toEqual({
        name: 'data',
        persistentVolumeClaim: { claimName: 'shopstream-postgres-data' },
      });
      expect(named('PersistentVolumeClaim', 'shopstream-postgres-data')).toBeDefined();
      expect(dependsOn('kafka', 'strimzi-operator')).toBe(true);
      expect(dependsOn('strimzi-operator', 'strimzi')).toBe(true);
      expect(dependsOn('pipeline', 'kafka-ready')).toBe(true);
      expect(dependsOn('pipeline', 'shopstream-operator')).toBe(true);
      const strimzi = rec.resources.find((r) => r.name === 'strimzi-operator')!;
      expect(strimzi).toMatchObject({
        kind: 'helm_resource',
        chart: 'strimzi/strimzi-kafka-operator',
        namespace: 'shop',
        flags: ['--version', versions.STRIMZI_CHART_VERSION],
      });
      // Strimzi 1.x serves kafka.strimzi.io/v1 only, the version the umbrella chart renders.
      expect(versions.STRIMZI_CHART_VERSION).toMatch(/^[1-9]\d*\.\d+\.\d+$/);
      for (const o of [...byKind('Kafka'), ...byKind('KafkaNodePool')])
        expect(o.apiVersion).toBe('kafka.strimzi.io/v1');

      // Port-forwards reach a port the workload's container listens on.
      const ports: Record<string, number> = {
        'shopstream-api': 8080,
        'shopstream-relay': 9464,
        'shopstream-consumer': 9465,
        'shopstream-operator': 9466,
      };
      for (const [workload, port] of Object.entries(ports)) {
        const r = rec.k8s_resources.find((x) => x.workload === workload)!;
        expect(r.port_forwards.map((p) => p.container)).toContain(port);
        const containerPorts = podSpec(named('Deployment', workload)!).containers.flatMap((c) =>
          (c.ports ?? []).map((p) => p.containerPort),
        );
        expect(containerPorts).toContain(port);
      }
      const api = rec.k8s_resources.find((x) => x.workload === 'shopstream-api')!;
      expect(api.links.map((l) => l.url)).toContain('http://localhost:8080/docs');
    });

    it('builds every shopstream image the stack runs, from Dockerfile targets with live update', () => {
      const images = new Set(
        rec.objects
          .filter((o) => WORKLOAD_KINDS.includes(o.kind))
          .flatMap((o) => podSpec(o).containers.map((c) => c.image.replace(/:[^:/]+$/, '')))
          .filter((i) => i.startsWith('ghcr.io/shopstream/')),
      );
      expect([...images].sort()).toEqual(COMPONENTS.map((c) => `ghcr.io/shopstream/${c}`).sort());
      expect(rec.builds.map((b) => b.ref).sort()).toEqual([...images].sort());
      for (const b of rec.builds) {
        const component = b.ref.split('/').pop()!;
        expect(b.target).toBe(`${component}-dev`);
        expect(dockerfile.stages.has(b.target)).toBe(true);
        // The build context Tilt sends (only=) holds every context path the target's stages copy.
        for (const src of contextSources(b.target))
          expect({ src, covered: b.only.some((o) => src === o || src.startsWith(`${o}/`)) }).toEqual({
            src,
            covered: true,
          });
        for (const o of b.only) expect(existsSync(join(repoRoot, o))).toBe(true);
        const syncs = b.live_update.flatMap((s) => ('sync' in s ? [s.sync] : []));
        expect(syncs.length).toBeGreaterThan(0);
        for (const [src, dest] of syncs) {
          expect(existsSync(join(repoRoot, src))).toBe(true);
          expect(dest).toBe(`/app/${src}`);
          expect(contextSources(b.target)).toContain(src);
        }
        const runStep = b.live_update.find((s) => 'run' in s) as { run: string } | undefined;
        expect(runStep?.run).toMatch(/tsc -b (services\/\w+|operator)$/);
      }
      // Live update writes into the container: the dev render lifts the read-only root filesystem.
      for (const c of COMPONENTS) {
        const d = named('Deployment', `shopstream-${c}`)!;
        expect(podSpec(d).containers[0]!.securityContext?.readOnlyRootFilesystem).toBe(false);
      }
    });

    it('ships k8s/samples/productpipeline-kind-strimzi.yaml as the pipeline it deploys', async () => {
      const deployed = named('ProductPipeline', 'products')!;
      const [sample] = await sampleObjects();
      expect(sample!.metadata).toMatchObject({
        name: deployed.metadata.name,
        namespace: deployed.metadata.namespace,
      });
      expect(sample!.spec).toEqual(deployed.spec);
      const spec = sample!.spec as {
        kafka: { clusterRef: { name: string; namespace: string } };
        relay: { deploymentRef: { name: string } };
        consumers: { deploymentRef: { name: string } }[];
      };
      expect(named('Kafka', spec.kafka.clusterRef.name)?.metadata.namespace).toBe(
        spec.kafka.clusterRef.namespace,
      );
      expect(named('Deployment', spec.relay.deploymentRef.name)).toBeDefined();
      for (const c of spec.consumers) expect(named('Deployment', c.deploymentRef.name)).toBeDefined();
    });
  });

  it('at `tilt down` first deletes the pipelines and waits, while the operator still removes their finalizer', async () => {
    const down = await tilt('kind-shopstream', { _subcommand: 'down' });
    expect(down.failed).toBeNull();
    expect(String(down.locals[0]!.cmd)).toMatch(
      /^kubectl --context kind-shopstream get crd productpipelines\.shopstream\.io .*\|\| exit 0; kubectl --context kind-shopstream -n shop delete productpipelines --all --wait=true/,
    );
    const up = await tilt('kind-shopstream');
    expect(up.locals.filter((l) => String(l.cmd).includes('delete productpipelines'))).toEqual([]);
  });

  it('with --prod-images builds the production targets and keeps the root filesystem read-only', async () => {
    const rec = await tilt('kind-shopstream', { 'prod-images': true });
    expect(rec.failed).toBeNull();
    expect(rec.builds.map((b) => b.target).sort()).toEqual([...COMPONENTS].sort());
    for (const b of rec.builds) expect(b.live_update).toEqual([]);
    for (const c of COMPONENTS) {
      const d = rec.objects.find((o) => o.kind === 'Deployment' && o.metadata.name === `shopstream-${c}`)!;
      expect(podSpec(d).containers[0]!.securityContext?.readOnlyRootFilesystem).toBe(true);
    }
  });

  it('with --monitoring adds Prometheus and Grafana and waits for their CRDs', async () => {
    const rec = await tilt('kind-shopstream', { monitoring: true });
    expect(rec.failed).toBeNull();
    expect(rec.resources.find((r) => r.name === 'kube-prometheus-stack')).toMatchObject({
      kind: 'helm_resource',
      chart: 'prometheus-community/kube-prometheus-stack',
    });
    const flags = rec.resources.find((r) => r.name === 'kube-prometheus-stack')!.flags as string[];
    expect(flags[flags.indexOf('--version') + 1]).toBe(versions.KUBE_PROMETHEUS_STACK_CHART_VERSION);
    const grafana = rec.resources.find((r) => r.name === 'grafana')!;
    expect(JSON.stringify(grafana.serve_cmd)).toContain('3000:');
    const monitors = rec.k8s_resources.find((r) => r.new_name === 'monitors')!;
    expect(monitors.resource_deps).toContain('kube-prometheus-stack');
    expect(monitors.objects.length).toBeGreaterThanOrEqual(2);
  });
});

/** The kind sample, parsed by python3 (the test workspace has no YAML library of its own). */
async function sampleObjects(): Promise<K8sObject[]> {
  const { stdout } = await run('python3', [
    '-c',
    'import json,sys,yaml; print(json.dumps([o for o in yaml.safe_load_all(open(sys.argv[1])) if o]))',
    join(repoRoot, 'k8s/samples/productpipeline-kind-strimzi.yaml'),
  ]);
  return JSON.parse(stdout) as K8sObject[];
}

describe('k8s/kind-config.yaml', () => {
  it('is a kind cluster config with one control-plane node', async () => {
    const { stdout } = await run('python3', [
      '-c',
      'import json,sys,yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))',
      join(repoRoot, 'k8s/kind-config.yaml'),
    ]);
    const config = JSON.parse(stdout) as {
      kind: string;
      apiVersion: string;
      name: string;
      nodes: { role: string }[];
    };
    expect(config).toMatchObject({
      kind: 'Cluster',
      apiVersion: 'kind.x-k8s.io/v1alpha4',
      name: 'shopstream',
    });
    expect(config.nodes.filter((n) => n.role === 'control-plane')).toHaveLength(1);
  });
});
