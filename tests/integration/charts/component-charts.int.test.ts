import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
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
  helm,
  jobOf,
  lint,
  mainContainer,
  namesUnknownTo,
  only,
  productionFixture,
  readValues,
  render,
  schemaConfigKeys,
} from './component-charts-helm.js';
import type { KubeObject, RenderOptions } from './component-charts-helm.js';

type Parse = (env: Record<string, string>) => object;
type Component = 'api' | 'relay' | 'consumer';
type Values = NonNullable<RenderOptions['values']>;

interface ComponentSpec {
  component: Component;
  /** The port the process serves probes on, and the container port's name. */
  port: number;
  portName: 'http' | 'metrics';
  /** The service's own config loader: its zod schema is the reference for every env var name. */
  loadConfig: Parse;
  /** Env vars the chart sets from dedicated values (connection, secrets, port), not from `config`. */
  managedEnv: string[];
  /** A config key of another service, which this component's schema must refuse. */
  foreignKey: string;
  /** A config value outside the service's zod bounds or enum. */
  outOfBounds: Record<string, unknown>;
  replicas: { default: number | undefined; managedByPipeline: boolean };
}

const kafkaEnv = [
  'KAFKA_BROKERS',
  'KAFKA_SASL_MECHANISM',
  'KAFKA_SASL_USERNAME',
  'KAFKA_SASL_PASSWORD',
  'KAFKA_SSL',
  'KAFKA_SSL_CA_FILE',
  'KAFKA_SSL_CERT_FILE',
  'KAFKA_SSL_KEY_FILE',
];
const components: ComponentSpec[] = [
  {
    component: 'api',
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
      ...kafkaEnv,
    ],
    foreignKey: 'RELAY_BATCH_SIZE',
    outOfBounds: { DB_POOL_MAX: 500 },
    replicas: { default: 2, managedByPipeline: false },
  },
  {
    component: 'relay',
    port: 9464,
    portName: 'metrics',
    loadConfig: loadRelayConfig,
    managedEnv: ['DATABASE_URL', 'LOG_LEVEL', 'METRICS_PORT', ...kafkaEnv],
    foreignKey: 'CONSUMER_GROUP_ID',
    outOfBounds: { RELAY_BATCH_SIZE: 0 },
    replicas: { default: undefined, managedByPipeline: true },
  },
  {
    component: 'consumer',
    port: 9465,
    portName: 'metrics',
    loadConfig: loadConsumerConfig,
    managedEnv: ['DATABASE_URL', 'LOG_LEVEL', 'METRICS_PORT', ...kafkaEnv],
    foreignKey: 'RELAY_BATCH_SIZE',
    outOfBounds: { CONSUMER_START_FROM: 'middle' },
    replicas: { default: 2, managedByPipeline: false },
  },
];

/** Names whose value is a credential or contains one: only ever from a Secret. */
const SECRET_NAME = /DATABASE_URL|PASSWORD|SECRET|TOKEN/;

/** Kafka as the ProductPipeline's spec.kafka: TLS with the cluster CA, and a Strimzi KafkaUser. */
const kafkaTls = { enabled: true, caSecret: { name: 'shop-kafka-cluster-ca-cert', key: 'ca.crt' } };
const scram = {
  kafka: {
    brokers: 'shop-kafka-kafka-bootstrap.kafka:9093',
    tls: kafkaTls,
    authentication: {
      type: 'scram-sha-512',
      username: 'shopstream-user',
      passwordSecret: { name: 'shopstream-user', key: 'password' },
    },
  },
};
const mtls = {
  kafka: {
    brokers: 'shop-kafka-kafka-bootstrap.kafka:9093',
    tls: kafkaTls,
    authentication: { type: 'tls', certificateSecret: { name: 'shopstream-user' } },
  },
};

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

/** Every config key of a component's schema, set to its documented default or first example. */
function everyConfigKey(component: Component): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(schemaConfigKeys(component)).map(([key, schema]) => {
      const value = schema.default ?? schema.examples?.[0];
      if (value === undefined) throw new Error(`${component}: config.${key} documents no default or example`);
      return [key, value];
    }),
  );
}

/** The workload chart's values for a component, then `values`. */
const workload = (component: Component, ...values: Values): Values => [{ component }, ...values];
const renderWorkload = (component: Component, ...values: Values): Promise<KubeObject[]> =>
  render('workload', { values: workload(component, ...values) });

const profiles = (component: Component): [string, Values][] => [
  ['default values', workload(component)],
  ['production values', [productionFixture(component)]],
];

/** A deployment's container env, by name. */
const envByName = (objects: KubeObject[]) =>
  Object.fromEntries((mainContainer(deploymentOf(objects)).env ?? []).map((e) => [e.name, e]));

describe.each(components)('the workload chart as the $component', (spec) => {
  const { component } = spec;

  it('passes helm lint --strict with its default and its production values', async () => {
    for (const [, values] of profiles(component)) {
      expect(await lint('workload', values)).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    }
  });

  it.each(profiles(component))(
    'renders with %s: a hardened pod, probes on the real port, secrets only by reference, config 1:1',
    async (_profile, values) => {
      const objects = await render('workload', { values });
      const deployment = deploymentOf(objects);
      const pod = deployment.spec!.template.spec!;
      const container = mainContainer(deployment);
      expect(container.name).toBe(component);
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
      const merged = {
        ...readValues(`${chartDir('workload')}/values.yaml`),
        ...Object.assign({}, ...values.map((v) => (typeof v === 'string' ? readValues(v) : v))),
      } as { database: { secretName: string; secretKey: string }; config?: Record<string, unknown> };
      expect(container.env?.find((e) => e.name === 'DATABASE_URL')?.valueFrom?.secretKeyRef).toEqual({
        name: merged.database.secretName,
        key: merged.database.secretKey,
      });

      // `config` maps 1:1: each key is one env var with the value as written; nothing else unmanaged.
      const env = container.env ?? [];
      const names = env.map((e) => e.name);
      expect(new Set(names).size).toBe(names.length);
      const config = merged.config ?? {};
      expect(names.filter((n) => !spec.managedEnv.includes(n)).sort()).toEqual(Object.keys(config).sort());
      for (const [key, value] of Object.entries(config)) {
        expect({ key, value: env.find((e) => e.name === key)?.value }).toEqual({ key, value: String(value) });
      }
      if (typeof values[0] === 'string') expect(Object.keys(config).length).toBeGreaterThan(0);

      // The service accepts what the chart renders.
      expect(() => spec.loadConfig(envMap(env))).not.toThrow();
    },
  );

  it('sets only env var names that the service config schema declares', async () => {
    const config = { config: everyConfigKey(component) };
    const variants = [
      await render('workload', { values: [productionFixture(component), config] }),
      await renderWorkload(component, config),
      await renderWorkload(component, scram),
      await renderWorkload(component, mtls),
    ];
    for (const objects of variants) {
      const env = envMap(mainContainer(deploymentOf(objects)).env ?? []);
      expect(namesUnknownTo(spec.loadConfig, env)).toEqual([]);
    }
    // Between them the variants set every key of `config` and every managed name the chart can set.
    const seen = new Set(
      variants.flatMap((o) => (mainContainer(deploymentOf(o)).env ?? []).map((e) => e.name)),
    );
    for (const key of Object.keys(schemaConfigKeys(component))) expect(seen).toContain(key);
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
    const keys = Object.entries(schemaConfigKeys(component));
    expect(keys.length).toBeGreaterThan(3);
    for (const [key, schema] of keys) {
      expect(schema.description).toBeTruthy();
      if (schema.default !== undefined)
        expect({ key, default: parsed[key] }).toEqual({ key, default: schema.default });
    }
  });

  const integerKey = Object.entries(schemaConfigKeys(component)).find(([, s]) => s.type === 'integer')![0];
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
    [
      'Kafka credentials in config instead of kafka.authentication',
      { config: { KAFKA_SASL_PASSWORD: 'secret' } },
      /at '\/config': additional properties 'KAFKA_SASL_PASSWORD' not allowed/,
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
    ['a port the process could not bind', { service: { port: 80 } }, /at '\/service\/port': minimum/],
    [
      'an unknown image pull policy',
      { image: { pullPolicy: 'Sometimes' } },
      /at '\/image\/pullPolicy': value must be one of/,
    ],
  ];
  it.each(violations)('is rejected by helm for %s', async (_what, values, message) => {
    const attempt = renderWorkload(component, values);
    await expect(attempt).rejects.toThrow(/values don't meet the specifications of the schema/);
    await expect(attempt).rejects.toThrow(message);
  });
});

describe('the workload chart component', () => {
  it('is required when the chart keeps its own name, and one of api, relay, consumer', async () => {
    await expect(render('workload')).rejects.toThrow(
      'component is empty and the chart is named "workload", not api, relay or consumer: set component',
    );
    await expect(renderWorkload('gateway' as Component)).rejects.toThrow(
      /at '\/component': value must be one of '', 'api', 'relay', 'consumer'/,
    );
  });

  it("is the chart's alias when empty: a parent chart's relay and consumer aliases render as before", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'workload-alias-'));
    try {
      const parent = join(dir, 'parent');
      await mkdir(parent);
      const dependency = (alias: string) =>
        `  - { name: workload, alias: ${alias}, version: '>=0.1.0-0', repository: 'file://${chartDir('workload')}' }`;
      await writeFile(
        join(parent, 'Chart.yaml'),
        [
          'apiVersion: v2',
          'name: parent',
          'version: 0.1.0',
          'dependencies:',
          dependency('relay'),
          dependency('consumer'),
        ].join('\n'),
      );
      await helm(['dependency', 'build', parent]);
      const objects = await render(parent);
      const deployments = objects
        .filter((o) => o.kind === 'Deployment')
        .map((o) => deploymentOf([o]))
        .sort((a, b) => a.metadata!.name!.localeCompare(b.metadata!.name!));
      expect(
        deployments.map((d) => ({
          name: d.metadata!.name,
          label: d.metadata!.labels!['app.kubernetes.io/name'],
          port: mainContainer(d).ports![0]!.containerPort,
          chart: d.metadata!.labels!['helm.sh/chart'],
        })),
      ).toEqual([
        { name: 'shop-consumer', label: 'consumer', port: 9465, chart: 'consumer-0.1.0' },
        { name: 'shop-relay', label: 'relay', port: 9464, chart: 'relay-0.1.0' },
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the workload chart with Kafka credentials (the ProductPipeline CRD shape)', () => {
  it.each(['api', 'relay', 'consumer'] as const)(
    'renders a SCRAM KafkaUser as the user name and its password Secret, and mounts the CA read-only (%s)',
    async (component) => {
      const objects = await renderWorkload(component, scram);
      const env = envByName(objects);
      expect(env.KAFKA_BROKERS?.value).toBe('shop-kafka-kafka-bootstrap.kafka:9093');
      expect(env.KAFKA_SASL_MECHANISM?.value).toBe('scram-sha-512');
      expect(env.KAFKA_SASL_USERNAME?.value).toBe('shopstream-user');
      expect(env.KAFKA_SASL_PASSWORD?.valueFrom?.secretKeyRef).toEqual({
        name: 'shopstream-user',
        key: 'password',
      });
      expect(env.KAFKA_SSL?.value).toBe('true');
      expect(env.KAFKA_SSL_CERT_FILE).toBeUndefined();
      const deployment = deploymentOf(objects);
      const caFile = env.KAFKA_SSL_CA_FILE?.value ?? '';
      const mount = mainContainer(deployment).volumeMounts?.find((m) => caFile === `${m.mountPath}/ca.crt`);
      expect(mount?.readOnly).toBe(true);
      const volume = deployment.spec!.template.spec!.volumes!.find((v) => v.name === mount?.name);
      expect(volume?.secret).toEqual({
        secretName: 'shop-kafka-cluster-ca-cert',
        items: [{ key: 'ca.crt', path: 'ca.crt' }],
      });
    },
  );

  it.each(['api', 'relay', 'consumer'] as const)(
    "renders a tls KafkaUser as its Secret's user.crt and user.key, mounted read-only, and no SASL (%s)",
    async (component) => {
      const objects = await renderWorkload(component, mtls);
      const env = envByName(objects);
      expect(Object.keys(env).filter((n) => n.startsWith('KAFKA_SASL_'))).toEqual([]);
      const deployment = deploymentOf(objects);
      const mounts = mainContainer(deployment).volumeMounts ?? [];
      for (const [name, key] of [
        ['KAFKA_SSL_CERT_FILE', 'user.crt'],
        ['KAFKA_SSL_KEY_FILE', 'user.key'],
      ] as const) {
        const file = env[name]?.value ?? '';
        const mount = mounts.find((m) => file === `${m.mountPath}/${key}`);
        expect({ name, readOnly: mount?.readOnly }).toEqual({ name, readOnly: true });
        const volume = deployment.spec!.template.spec!.volumes!.find((v) => v.name === mount?.name);
        expect(volume?.secret?.secretName).toBe('shopstream-user');
        expect(volume?.secret?.items).toContainEqual({ key, path: key });
      }
      // The service takes the pair under its own rules (both files, KAFKA_SSL=true).
      expect(() =>
        components.find((c) => c.component === component)!.loadConfig(envMap(Object.values(env))),
      ).not.toThrow();
    },
  );

  it.each([
    [
      'scram-sha-512 without the user name',
      { authentication: { type: 'scram-sha-512', passwordSecret: { name: 'u' } } },
      /at '\/kafka\/authentication\/username': minLength: got 0, want 1/,
    ],
    [
      'scram-sha-512 without the password Secret',
      { authentication: { type: 'scram-sha-512', username: 'u' } },
      /at '\/kafka\/authentication\/passwordSecret\/name': minLength: got 0, want 1/,
    ],
    [
      'tls without the certificate Secret',
      { tls: { enabled: true }, authentication: { type: 'tls' } },
      /at '\/kafka\/authentication\/certificateSecret\/name': minLength: got 0, want 1/,
    ],
    [
      'tls authentication without TLS',
      { authentication: { type: 'tls', certificateSecret: { name: 'u' } } },
      /at '\/kafka\/tls\/enabled': value must be true/,
    ],
    [
      'a mechanism the CRD does not offer',
      { authentication: { type: 'plain' } },
      /at '\/kafka\/authentication\/type'/,
    ],
    [
      'the former kafka.sasl section',
      { sasl: { enabled: true, secretName: 'kafka-user' } },
      /at '\/kafka': additional properties 'sasl' not allowed/,
    ],
  ])('is rejected by the schema for %s', async (_what, kafka, message) => {
    const attempt = renderWorkload('relay', { kafka });
    await expect(attempt).rejects.toThrow(/values don't meet the specifications of the schema/);
    await expect(attempt).rejects.toThrow(message);
  });

  it('refuses Kafka TLS or authentication for the api without brokers to use them on', async () => {
    await expect(renderWorkload('api', { kafka: { tls: kafkaTls } })).rejects.toThrow(
      'kafka.tls or kafka.authentication is set, but kafka.brokers is not: set the brokers the api connects to',
    );
  });

  it('sets no Kafka credentials by default: brokers for the relay and the consumer, nothing for the api', async () => {
    const kafkaNames = async (component: Component) =>
      Object.keys(envByName(await renderWorkload(component))).filter((n) => n.startsWith('KAFKA_'));
    expect(await kafkaNames('relay')).toEqual(['KAFKA_BROKERS']);
    expect(await kafkaNames('consumer')).toEqual(['KAFKA_BROKERS']);
    expect(await kafkaNames('api')).toEqual([]);
  });
});

describe('the workload chart and scaling ownership', () => {
  it.each(components)(
    "renders the $component's default replicas, none while the ProductPipeline owns scaling",
    async ({ component, replicas }) => {
      const deployment = deploymentOf(await renderWorkload(component));
      if (replicas.managedByPipeline) expect(deployment.spec).not.toHaveProperty('replicas');
      else expect(deployment.spec?.replicas).toBe(replicas.default);
    },
  );

  it('renders replicaCount when managedByPipeline is false, and none when it is true', async () => {
    const relay = deploymentOf(
      await renderWorkload('relay', { scaling: { managedByPipeline: false }, replicaCount: 3 }),
    );
    expect(relay.spec?.replicas).toBe(3);
    const consumer = deploymentOf(
      await renderWorkload('consumer', { scaling: { managedByPipeline: true }, replicaCount: 3 }),
    );
    expect(consumer.spec).not.toHaveProperty('replicas');
  });
});

describe('the workload chart migration hook', () => {
  it('renders a pre-install/pre-upgrade Job running the migrations with the same hardening (api)', async () => {
    const objects = await render('workload', { values: [productionFixture('api')] });
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
    // migrate-cli reads DATABASE_URL and LOG_LEVEL of the common schema, nothing else; no Kafka Secret.
    const env = envMap(container.env ?? []);
    const migrateSchema = commonConfigSchema.pick({ DATABASE_URL: true, LOG_LEVEL: true });
    expect(namesUnknownTo((e) => parseConfig(migrateSchema, e), env)).toEqual([]);
    expect(Object.keys(env).sort()).toEqual(['DATABASE_URL', 'LOG_LEVEL']);
    expect(pod.volumes?.map((v) => v.name)).toEqual(['tmp']);
    // Neither the Service nor the PDB selects the migration pod.
    const selector = only<KubeObject & { spec: { selector: Record<string, string> } }>(objects, 'Service')
      .spec.selector;
    const labels = job.spec!.template.metadata!.labels!;
    expect(Object.entries(selector).every(([k, v]) => labels[k] === v)).toBe(false);
  });

  it('renders no Job when migrations are disabled, and JWT_SECRET from its Secret without a JWKS URL', async () => {
    const objects = await renderWorkload('api', { migrations: { enabled: false } });
    expect(objects.filter((o) => o.kind === 'Job')).toEqual([]);
    const env = mainContainer(deploymentOf(objects)).env ?? [];
    expect(env.find((e) => e.name === 'JWT_SECRET')?.valueFrom?.secretKeyRef).toEqual({
      name: 'shopstream-jwt',
      key: 'secret',
    });
    expect(env.find((e) => e.name === 'JWT_JWKS_URL')).toBeUndefined();
  });

  it('runs no migrations for the relay and the consumer unless switched on, then from their own image', async () => {
    for (const component of ['relay', 'consumer'] as const) {
      expect((await renderWorkload(component)).filter((o) => o.kind === 'Job')).toEqual([]);
    }
    const job = jobOf(await renderWorkload('relay', { migrations: { enabled: true } }));
    expect(job.metadata?.name).toBe('shop-relay-migrate');
    expect(job.spec!.template.spec!.containers[0]!.image).toBe('ghcr.io/shopstream/relay:0.1.0');
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

/** Each image owner: the workload chart as each component, and the operator chart. */
const imageOwners: { name: string; chart: string; base: Values; production?: string }[] = [
  ...(['api', 'relay', 'consumer'] as const).map((c) => ({
    name: c,
    chart: 'workload',
    base: workload(c),
    production: productionFixture(c),
  })),
  { name: 'operator', chart: 'operator', base: [] },
];

describe.each(imageOwners)('the $name image references', ({ name, chart, base, production }) => {
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
    for (const values of [base, [...base, pinned]]) {
      expect(await lint(chart, values)).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    }
  });

  it('renders ghcr.io/shopstream/<component>:<appVersion> and no pull Secrets by default', async () => {
    const pods = podTemplates(await render(chart, { values: base }));
    expect(pods.length).toBeGreaterThan(0);
    for (const { where, template } of pods) {
      const images = containersOf(template.spec!).map((c) => c.image);
      expect({ where, images }).toEqual({
        where,
        images: images.map(() => `ghcr.io/shopstream/${name}:${appVersion}`),
      });
      expect({ where, pullSecrets: template.spec!.imagePullSecrets }).toEqual({
        where,
        pullSecrets: undefined,
      });
    }
  });

  it('takes the registry from global.imageRegistry, pins the digest and merges both pull Secret lists in every pod', async () => {
    const objects = await render(chart, { values: [...base, pinned] });
    const pods = podTemplates(objects);
    // The api's migration hook Job runs the api image too.
    expect(pods.map((p) => p.where.split(' ')[0]).sort()).toEqual(
      name === 'api' ? ['Deployment', 'Job'] : ['Deployment'],
    );
    for (const { where, template } of pods) {
      for (const container of containersOf(template.spec!)) {
        // The digest names the image: the tag is left out.
        expect({ where, image: container.image }).toEqual({
          where,
          image: `mirror.example.com:5000/shopstream/${name}@${DIGEST}`,
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
      mainContainer(deploymentOf(await render(chart, { values: [...base, values] }))).image;
    expect(await image({ image: { registry: 'registry.example.com', tag: '1.2.3' } })).toBe(
      `registry.example.com/shopstream/${name}:1.2.3`,
    );
    expect(await image({ image: { registry: '', repository: `localhost:5001/${name}` } })).toBe(
      `localhost:5001/${name}:${appVersion}`,
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
      { image: { repository: `registry.example.com/shopstream/${name}` } },
      /starts with a registry host/,
    ],
  ])('is rejected by helm for %s', async (_what, values, message) => {
    await expect(render(chart, { values: [...base, values] })).rejects.toThrow(message);
  });

  it.each([
    ['default values', base],
    ...(production ? [['production values', [production]] as [string, Values]] : []),
  ] as [string, Values][])(
    'keeps the chart and app version off every pod template, not off the objects (%s)',
    async (_profile, values) => {
      const objects = await render(chart, { values });
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
    const [first, ...others] = ['workload', 'operator', 'shopstream'].map((c) => definition(c, name));
    expect(first).toContain('define');
    expect(others).toHaveLength(2);
    for (const other of others) expect(other).toBe(first);
  });
});
