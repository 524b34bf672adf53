import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Container, V1PodSpec, V1PodTemplateSpec, V1Probe } from '@kubernetes/client-node';
import { loadConfig as loadApiConfig } from '@shopstream/api';
import { loadConfig as loadConsumerConfig } from '@shopstream/consumer';
import { loadConfig as loadRelayConfig } from '@shopstream/relay';
import { commonConfigSchema, parseConfig } from '@shopstream/shared';
import {
  chartDir,
  deploymentOf,
  envMap,
  fixture,
  helm,
  jobOf,
  mainContainer,
  namesUnknownTo,
  only,
  readValues,
  render,
  schemaConfigKeys,
} from './component-charts-helm.js';
import type { KubeObject } from './component-charts-helm.js';

type Parse = (env: Record<string, string>) => object;

interface ChartSpec {
  chart: 'api' | 'relay' | 'consumer';
  /** The port the process serves probes on, and the container port's name. */
  port: number;
  portName: 'http' | 'metrics';
  /** The service's own config loader: its zod schema is the reference for every env var name. */
  loadConfig: Parse;
  /** Env vars the chart sets from dedicated values (connection, secrets, port), not from `config`. */
  managedEnv: string[];
  /** A config key of another service, which this chart's schema must refuse. */
  foreignKey: string;
  /** A config value outside the service's zod bounds or enum. */
  outOfBounds: Record<string, unknown>;
}

const kafkaEnv = [
  'KAFKA_BROKERS',
  'KAFKA_SASL_MECHANISM',
  'KAFKA_SASL_USERNAME',
  'KAFKA_SASL_PASSWORD',
  'KAFKA_SSL',
  'KAFKA_SSL_CA_FILE',
];
const charts: ChartSpec[] = [
  {
    chart: 'api',
    port: 8080,
    portName: 'http',
    loadConfig: loadApiConfig,
    managedEnv: [
      'DATABASE_URL',
      'LOG_LEVEL',
      'PORT',
      'JWT_SECRET',
      'JWT_JWKS_URL',
      'JWT_ISSUER',
      'JWT_AUDIENCE',
      'ADMIN_TOKEN',
    ],
    foreignKey: 'RELAY_BATCH_SIZE',
    outOfBounds: { DB_POOL_MAX: 500 },
  },
  {
    chart: 'relay',
    port: 9464,
    portName: 'metrics',
    loadConfig: loadRelayConfig,
    managedEnv: ['DATABASE_URL', 'LOG_LEVEL', 'METRICS_PORT', ...kafkaEnv],
    foreignKey: 'CONSUMER_GROUP_ID',
    outOfBounds: { RELAY_BATCH_SIZE: 0 },
  },
  {
    chart: 'consumer',
    port: 9465,
    portName: 'metrics',
    loadConfig: loadConsumerConfig,
    managedEnv: ['DATABASE_URL', 'LOG_LEVEL', 'METRICS_PORT', ...kafkaEnv],
    foreignKey: 'RELAY_BATCH_SIZE',
    outOfBounds: { CONSUMER_START_FROM: 'middle' },
  },
];

/** Names whose value is a credential or contains one: only ever from a Secret. */
const SECRET_NAME = /DATABASE_URL|PASSWORD|SECRET|USERNAME|TOKEN/;

function expectHardened(pod: V1PodSpec, container: V1Container): void {
  const sc = container.securityContext ?? {};
  expect(pod.securityContext?.runAsNonRoot ?? sc.runAsNonRoot).toBe(true);
  expect(sc.runAsNonRoot ?? pod.securityContext?.runAsNonRoot).toBe(true);
  expect(sc.runAsUser ?? pod.securityContext?.runAsUser).toBe(10001);
  expect(sc.readOnlyRootFilesystem).toBe(true);
  expect(sc.allowPrivilegeEscalation).toBe(false);
  expect(sc.capabilities?.drop).toContain('ALL');
  expect(sc.capabilities?.add ?? []).toEqual([]);
  expect((sc.seccompProfile ?? pod.securityContext?.seccompProfile)?.type).toBe('RuntimeDefault');
  // A read-only root needs a writable /tmp, backed by an emptyDir.
  const tmp = container.volumeMounts?.find((m) => m.mountPath === '/tmp');
  expect(tmp).toBeDefined();
  expect(pod.volumes?.find((v) => v.name === tmp?.name)?.emptyDir).toBeDefined();
}

function expectNoClearTextSecrets(container: V1Container): void {
  for (const e of container.env ?? []) {
    expect(e.value ?? '').not.toMatch(/postgres(ql)?:\/\//);
    if (SECRET_NAME.test(e.name)) {
      expect({ name: e.name, value: e.value }).toEqual({ name: e.name, value: undefined });
      expect(e.valueFrom?.secretKeyRef?.name).toBeTruthy();
      expect(e.valueFrom?.secretKeyRef?.key).toBeTruthy();
    }
  }
}

/** The port a probe hits, resolved through the container's named ports. */
function probePort(container: V1Container, probe: V1Probe | undefined): number | undefined {
  const port = probe?.httpGet?.port;
  if (typeof port === 'number') return port;
  return container.ports?.find((p) => p.name === port)?.containerPort;
}

/** Every config key of a chart's schema, set to its documented default or first example. */
function everyConfigKey(chart: string): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(schemaConfigKeys(chart)).map(([key, schema]) => {
      const value = schema.default ?? schema.examples?.[0];
      if (value === undefined) throw new Error(`${chart}: config.${key} documents no default or example`);
      return [key, value];
    }),
  );
}

const profiles = (chart: string): [string, string[]][] => [
  ['default values', []],
  ['production values', [fixture(`${chart}-production.yaml`)]],
];

describe.each(charts)('the $chart chart', (spec) => {
  const { chart } = spec;

  it('passes helm lint --strict with its default and its production values', async () => {
    for (const [, files] of profiles(chart)) {
      const out = await helm(['lint', '--strict', chartDir(chart), ...files.flatMap((f) => ['--values', f])]);
      expect(out).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    }
  });

  it.each(profiles(chart))(
    'renders with %s: a hardened pod, probes on the real port, secrets only by reference, config 1:1',
    async (_profile, files) => {
      const objects = await render(chart, { values: files });
      const deployment = deploymentOf(objects);
      const pod = deployment.spec!.template.spec!;
      const container = mainContainer(deployment);
      expectHardened(pod, container);
      expect(pod.automountServiceAccountToken).toBe(false);

      expect(container.livenessProbe?.httpGet?.path).toBe('/healthz');
      expect(container.readinessProbe?.httpGet?.path).toBe('/readyz');
      expect(probePort(container, container.livenessProbe)).toBe(spec.port);
      expect(probePort(container, container.readinessProbe)).toBe(spec.port);
      expect(container.ports?.find((p) => p.containerPort === spec.port)?.name).toBe(spec.portName);
      const service = only<KubeObject & { spec: { ports: { name: string; targetPort: unknown }[] } }>(
        objects,
        'Service',
      );
      expect(service.spec.ports).toEqual([
        expect.objectContaining({ name: spec.portName, targetPort: spec.portName }),
      ]);

      expectNoClearTextSecrets(container);
      const values = {
        ...readValues(`${chartDir(chart)}/values.yaml`),
        ...(files[0] ? readValues(files[0]) : {}),
      } as {
        database: { secretName: string; secretKey: string };
        config?: Record<string, unknown>;
      };
      expect(container.env?.find((e) => e.name === 'DATABASE_URL')?.valueFrom?.secretKeyRef).toEqual({
        name: values.database.secretName,
        key: values.database.secretKey,
      });

      // `config` maps 1:1: each key is one env var with the value as written; nothing else unmanaged.
      const env = container.env ?? [];
      const names = env.map((e) => e.name);
      expect(new Set(names).size).toBe(names.length);
      const config = values.config ?? {};
      expect(names.filter((n) => !spec.managedEnv.includes(n)).sort()).toEqual(Object.keys(config).sort());
      for (const [key, value] of Object.entries(config)) {
        expect({ key, value: env.find((e) => e.name === key)?.value }).toEqual({ key, value: String(value) });
      }
      if (files.length) expect(Object.keys(config).length).toBeGreaterThan(0);

      // The service accepts what the chart renders.
      expect(() => spec.loadConfig(envMap(env))).not.toThrow();
    },
  );

  it('sets only env var names that the service config schema declares', async () => {
    const maximal = [fixture(`${chart}-production.yaml`), { config: everyConfigKey(chart) }];
    const variants = [
      await render(chart, { values: maximal }),
      await render(chart, { values: [maximal[1]!] }),
    ];
    for (const objects of variants) {
      const env = envMap(mainContainer(deploymentOf(objects)).env ?? []);
      expect(namesUnknownTo(spec.loadConfig, env)).toEqual([]);
    }
    // Between them the variants set every key of `config` and every managed name the chart can set.
    const seen = new Set(
      variants.flatMap((o) => (mainContainer(deploymentOf(o)).env ?? []).map((e) => e.name)),
    );
    for (const key of Object.keys(schemaConfigKeys(chart))) expect(seen).toContain(key);
    for (const key of spec.managedEnv) expect(seen).toContain(key);

    // The same check catches a name the schema lacks.
    const env = envMap(mainContainer(deploymentOf(variants[1]!)).env ?? []);
    expect(namesUnknownTo(spec.loadConfig, { ...env, KAFKA_SASL_USER: 'typo' })).toEqual(['KAFKA_SASL_USER']);
  });

  it("documents the service's own defaults for the config keys it types", () => {
    const parsed = spec.loadConfig({
      DATABASE_URL: 'postgres://shop@db:5432/shop',
      KAFKA_BROKERS: 'kafka:9092',
      JWT_SECRET: 'a-development-secret-of-at-least-32-characters',
    }) as Record<string, unknown>;
    const keys = Object.entries(schemaConfigKeys(chart));
    expect(keys.length).toBeGreaterThan(3);
    for (const [key, schema] of keys) {
      expect(schema.description).toBeTruthy();
      if (schema.default !== undefined)
        expect({ key, default: parsed[key] }).toEqual({ key, default: schema.default });
    }
  });

  const integerKey = Object.entries(schemaConfigKeys(chart)).find(([, s]) => s.type === 'integer')![0];
  const violations: [string, Record<string, unknown>, RegExp][] = [
    ['an unknown key', { replicas: 3 }, /at '': additional properties 'replicas' not allowed/],
    ['a wrong type', { replicaCount: 'two' }, /at '\/replicaCount': got string, want integer/],
    [
      'a config number written as a string',
      { config: { [integerKey]: '200' } },
      new RegExp(`at '/config/${integerKey}': got string, want integer`),
    ],
    [
      `a config key of another service (${spec.foreignKey})`,
      { config: { [spec.foreignKey]: 1 } },
      new RegExp(`at '/config': additional properties '${spec.foreignKey}' not allowed`),
    ],
    [
      'a clear-text database URL in config',
      { config: { DATABASE_URL: 'postgres://shop:pw@db/shop' } },
      /at '\/config': additional properties 'DATABASE_URL' not allowed/,
    ],
    ['an invalid log level', { logLevel: 'loud' }, /at '\/logLevel': value must be one of/],
    [
      'a config value outside the service bounds',
      { config: spec.outOfBounds },
      new RegExp(`at '/config/${Object.keys(spec.outOfBounds)[0]}': `),
    ],
    [
      'a fractional config number',
      { config: { [integerKey]: 1.5 } },
      new RegExp(`at '/config/${integerKey}': got number, want integer`),
    ],
    [
      'an unknown image pull policy',
      { image: { pullPolicy: 'Sometimes' } },
      /at '\/image\/pullPolicy': value must be one of/,
    ],
  ];
  it.each(violations)('is rejected by helm for %s', async (_what, values, message) => {
    const attempt = render(chart, { values: [values] });
    await expect(attempt).rejects.toThrow(/values don't meet the specifications of the schema/);
    await expect(attempt).rejects.toThrow(message);
  });
});

describe.each(['relay', 'consumer'])('the %s chart with Kafka credentials', (chart) => {
  it('reads the SASL username and password from the Secret and mounts the CA for TLS', async () => {
    const container = mainContainer(
      deploymentOf(await render(chart, { values: [fixture(`${chart}-production.yaml`)] })),
    );
    const env = Object.fromEntries((container.env ?? []).map((e) => [e.name, e]));
    const secret = `shopstream-${chart}-kafka`;
    expect(env.KAFKA_SASL_MECHANISM?.value).toBe('scram-sha-512');
    expect(env.KAFKA_SASL_USERNAME?.valueFrom?.secretKeyRef).toEqual({ name: secret, key: 'username' });
    expect(env.KAFKA_SASL_PASSWORD?.valueFrom?.secretKeyRef).toEqual({ name: secret, key: 'password' });
    expect(env.KAFKA_SSL?.value).toBe('true');
    const caFile = env.KAFKA_SSL_CA_FILE?.value ?? '';
    const mount = container.volumeMounts?.find((m) => caFile.startsWith(`${m.mountPath}/`));
    expect(mount?.readOnly).toBe(true);
  });

  it('refuses SASL without a Secret to take the credentials from', async () => {
    await expect(render(chart, { values: [{ kafka: { sasl: { enabled: true } } }] })).rejects.toThrow(
      /at '\/kafka\/sasl\/secretName': minLength/,
    );
  });

  it('sets no Kafka credentials by default', async () => {
    const env = mainContainer(deploymentOf(await render(chart))).env ?? [];
    expect(env.map((e) => e.name).filter((n) => n.startsWith('KAFKA_'))).toEqual(['KAFKA_BROKERS']);
  });
});

describe('the relay chart and pipeline scaling', () => {
  it('omits spec.replicas while the ProductPipeline owns scaling', async () => {
    const deployment = deploymentOf(await render('relay'));
    expect(deployment.spec).toBeDefined();
    expect(deployment.spec).not.toHaveProperty('replicas');
  });

  it('renders replicaCount when managedByPipeline is false', async () => {
    const deployment = deploymentOf(
      await render('relay', { values: [{ scaling: { managedByPipeline: false }, replicaCount: 3 }] }),
    );
    expect(deployment.spec?.replicas).toBe(3);
  });
});

describe('the api chart migration hook', () => {
  it('renders a pre-install/pre-upgrade Job running the migrations with the same hardening', async () => {
    const objects = await render('api', { values: [fixture('api-production.yaml')] });
    const job = jobOf(objects);
    expect(job.metadata?.annotations).toMatchObject({
      'helm.sh/hook': 'pre-install,pre-upgrade',
      'helm.sh/hook-delete-policy': 'before-hook-creation,hook-succeeded',
    });
    expect(job.spec?.backoffLimit).toBe(2);
    const pod = job.spec!.template.spec!;
    expect(pod.restartPolicy).toBe('Never');
    const container = pod.containers[0]!;
    expect(container.command).toEqual(['node', 'services/shared/dist/db/migrate-cli.js']);
    expectHardened(pod, container);
    expectNoClearTextSecrets(container);
    const deployment = deploymentOf(objects);
    expect(container.securityContext).toEqual(mainContainer(deployment).securityContext);
    expect(pod.securityContext).toEqual(deployment.spec?.template.spec?.securityContext);
    // migrate-cli reads DATABASE_URL and LOG_LEVEL of the common schema, nothing else.
    const env = envMap(container.env ?? []);
    const migrateSchema = commonConfigSchema.pick({ DATABASE_URL: true, LOG_LEVEL: true });
    expect(namesUnknownTo((e) => parseConfig(migrateSchema, e), env)).toEqual([]);
    expect(Object.keys(env).sort()).toEqual(['DATABASE_URL', 'LOG_LEVEL']);
    // Neither the Service nor the PDB selects the migration pod.
    const selector = only<KubeObject & { spec: { selector: Record<string, string> } }>(objects, 'Service')
      .spec.selector;
    const labels = job.spec!.template.metadata!.labels!;
    expect(Object.entries(selector).every(([k, v]) => labels[k] === v)).toBe(false);
  });

  it('renders no Job when migrations are disabled, and JWT_SECRET from its Secret without a JWKS URL', async () => {
    const objects = await render('api', { values: [{ migrations: { enabled: false } }] });
    expect(objects.filter((o) => o.kind === 'Job')).toEqual([]);
    const env = mainContainer(deploymentOf(objects)).env ?? [];
    expect(env.find((e) => e.name === 'JWT_SECRET')?.valueFrom?.secretKeyRef).toEqual({
      name: 'shopstream-jwt',
      key: 'secret',
    });
    expect(env.find((e) => e.name === 'JWT_JWKS_URL')).toBeUndefined();
  });
});

/** The pod templates of a render: every Deployment's and Job's (hooks included). */
function podTemplates(objects: KubeObject[]): { where: string; template: V1PodTemplateSpec }[] {
  return objects
    .filter((o) => o.kind === 'Deployment' || o.kind === 'Job')
    .map((o) => ({
      where: `${o.kind} ${o.metadata.name}`,
      template: (o.spec as { template: V1PodTemplateSpec }).template,
    }));
}

const containersOf = (pod: V1PodSpec): V1Container[] => [...(pod.initContainers ?? []), ...pod.containers];

/** Labels that change with every chart or image release: never on a pod template. */
const RELEASE_LABELS = ['helm.sh/chart', 'app.kubernetes.io/version'];

const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;

describe.each(['api', 'relay', 'consumer', 'operator'])('the %s chart image references', (chart) => {
  const appVersion = /^appVersion:\s*'?([^'\s]+)'?/m.exec(
    readFileSync(join(chartDir(chart), 'Chart.yaml'), 'utf8'),
  )![1]!;

  const pinned = {
    global: {
      imageRegistry: 'mirror.example.com:5000',
      imagePullSecrets: ['global-pull', { name: 'shared' }],
    },
    image: { tag: '9.9.9', digest: DIGEST },
    imagePullSecrets: [{ name: 'shared' }, 'chart-pull'],
  };

  it('passes helm lint --strict with its default values and with a global registry, a digest and pull Secrets', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'chart-lint-'));
    try {
      const file = join(dir, 'pinned.json');
      await writeFile(file, JSON.stringify(pinned));
      for (const files of [[], [file]]) {
        const out = await helm([
          'lint',
          '--strict',
          chartDir(chart),
          ...files.flatMap((f) => ['--values', f]),
        ]);
        expect(out).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('renders ghcr.io/shopstream/<chart>:<appVersion> and no pull Secrets by default', async () => {
    const pods = podTemplates(await render(chart));
    expect(pods.length).toBeGreaterThan(0);
    for (const { where, template } of pods) {
      const images = containersOf(template.spec!).map((c) => c.image);
      expect({ where, images }).toEqual({
        where,
        images: images.map(() => `ghcr.io/shopstream/${chart}:${appVersion}`),
      });
      expect({ where, pullSecrets: template.spec!.imagePullSecrets }).toEqual({
        where,
        pullSecrets: undefined,
      });
    }
  });

  it('takes the registry from global.imageRegistry, pins the digest and merges both pull Secret lists in every pod', async () => {
    const objects = await render(chart, { values: [pinned] });
    const pods = podTemplates(objects);
    // The api's migration hook Job runs the api image too.
    expect(pods.map((p) => p.where.split(' ')[0]).sort()).toEqual(
      chart === 'api' ? ['Deployment', 'Job'] : ['Deployment'],
    );
    for (const { where, template } of pods) {
      for (const container of containersOf(template.spec!)) {
        // The digest names the image: the tag is left out.
        expect({ where, image: container.image }).toEqual({
          where,
          image: `mirror.example.com:5000/shopstream/${chart}@${DIGEST}`,
        });
      }
      expect({ where, pullSecrets: template.spec!.imagePullSecrets }).toEqual({
        where,
        pullSecrets: [{ name: 'global-pull' }, { name: 'shared' }, { name: 'chart-pull' }],
      });
    }
  });

  it('uses image.registry without a global one, and the repository as written with neither', async () => {
    const image = async (values: Record<string, unknown>) =>
      mainContainer(deploymentOf(await render(chart, { values: [values] }))).image;
    expect(await image({ image: { registry: 'registry.example.com', tag: '1.2.3' } })).toBe(
      `registry.example.com/shopstream/${chart}:1.2.3`,
    );
    expect(await image({ image: { registry: '', repository: `localhost:5001/${chart}` } })).toBe(
      `localhost:5001/${chart}:${appVersion}`,
    );
  });

  it.each([
    [
      'a digest that is not sha256:<64 hex>',
      { image: { digest: 'sha256:abc' } },
      /at '\/image\/digest': .*does not match pattern/,
    ],
    ['an empty pull Secret name', { imagePullSecrets: [''] }, /at '\/imagePullSecrets\/0'/],
    [
      'a global pull Secret without a name',
      { global: { imagePullSecrets: [{}] } },
      /at '\/global\/imagePullSecrets\/0'/,
    ],
    [
      'a registry both in image.registry and image.repository',
      { image: { repository: `registry.example.com/shopstream/${chart}` } },
      /starts with a registry host/,
    ],
  ])('is rejected by helm for %s', async (_what, values, message) => {
    await expect(render(chart, { values: [values] })).rejects.toThrow(message);
  });

  it.each([
    ['default values', []],
    ...(chart === 'operator'
      ? []
      : [['production values', [fixture(`${chart}-production.yaml`)]] as [string, string[]]]),
  ] as [string, string[]][])(
    'keeps the chart and app version off every pod template, not off the objects (%s)',
    async (_profile, files) => {
      const objects = await render(chart, { values: files });
      const pods = podTemplates(objects);
      expect(pods.length).toBeGreaterThan(0);
      for (const { where, template } of pods) {
        const labels = template.metadata?.labels ?? {};
        expect({ where, keys: Object.keys(labels).filter((k) => RELEASE_LABELS.includes(k)) }).toEqual({
          where,
          keys: [],
        });
        expect(labels['app.kubernetes.io/part-of']).toBe('shopstream');
      }
      const deployment = deploymentOf(objects);
      for (const key of RELEASE_LABELS) expect(deployment.metadata?.labels?.[key]).toBeTruthy();
      // The pod still carries every selector label.
      const podLabels = deployment.spec!.template.metadata!.labels!;
      for (const [k, v] of Object.entries(deployment.spec!.selector.matchLabels!))
        expect(podLabels[k]).toBe(v);
    },
  );
});

describe('the image helpers', () => {
  /** A `define` block of a _helpers.tpl, with the chart prefix replaced by <chart>. */
  const definition = (chart: string, name: string): string => {
    const text = readFileSync(join(chartDir(chart), 'templates', '_helpers.tpl'), 'utf8');
    const start = text.indexOf(`{{- define "${chart}.${name}" -}}`);
    if (start < 0) throw new Error(`${chart}: no ${chart}.${name}`);
    // Up to the next comment or define, or the end of the file.
    const rest = text.slice(start);
    const ends = ['\n{{/*', '\n{{- define'].map((m) => rest.indexOf(m, 1)).filter((i) => i >= 0);
    const body = rest.slice(0, ends.length ? Math.min(...ends) : undefined);
    return body.trim().replaceAll(`"${chart}.`, '"<chart>.');
  };

  it.each(['imageRef', 'pullSecretsField'])('are one %s, copied into every chart', (name) => {
    const [first, ...others] = ['api', 'relay', 'consumer', 'operator', 'shopstream'].map((c) =>
      definition(c, name),
    );
    expect(first).toContain('define');
    for (const other of others) expect(other).toBe(first);
  });
});
