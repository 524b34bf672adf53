import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadYaml } from '@kubernetes/client-node';
import { externalVersionsFile, readExternalVersions } from './external-versions.js';
import { dashboardsDir, readRuleFile, umbrellaDir } from './observability-files.js';
import { ofKind, prepareUmbrella } from './observability-helm.js';
import type { Manifest, Umbrella } from './observability-helm.js';

interface Deployment extends Manifest {
  spec: {
    replicas?: number;
    selector: { matchLabels: Record<string, string> };
    template: {
      metadata: { labels: Record<string, string> };
      spec: { containers: { name: string; ports?: { name?: string; containerPort: number }[] }[] };
    };
  };
}

const components = ['api', 'relay', 'consumer', 'operator'];
const profiles = [
  { name: 'default', values: [] as string[] },
  { name: 'dev', values: ['values-dev.yaml'] },
  { name: 'production', values: ['values-production.yaml'] },
];

const deploymentOf = (manifests: Manifest[], component: string) => {
  const found = ofKind(manifests, 'Deployment').filter(
    (d) => d.metadata.labels?.['app.kubernetes.io/name'] === component,
  ) as Deployment[];
  expect(found.map((d) => d.metadata.name)).toHaveLength(1);
  return found[0]!;
};

/** Whether a label selector (matchLabels + matchExpressions) selects these labels. */
function selects(
  selector: {
    matchLabels?: Record<string, string>;
    matchExpressions?: { key: string; operator: string; values?: string[] }[];
  },
  labels: Record<string, string>,
): boolean {
  const byLabel = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const byExpression = (selector.matchExpressions ?? []).every((e) => {
    const value = labels[e.key];
    if (e.operator === 'In') return value !== undefined && (e.values ?? []).includes(value);
    if (e.operator === 'NotIn') return value === undefined || !(e.values ?? []).includes(value);
    if (e.operator === 'Exists') return value !== undefined;
    return value === undefined;
  });
  return byLabel && byExpression;
}

describe('the shopstream umbrella chart', () => {
  let umbrella: Umbrella;
  beforeAll(async () => {
    umbrella = await prepareUmbrella();
  }, 120_000);
  afterAll(() => umbrella?.remove());

  it.each(profiles)('passes helm lint --strict with the $name values', async ({ values }) => {
    const { stdout } = await umbrella.helm([
      'lint',
      '--strict',
      umbrella.chart,
      ...values.flatMap((v) => ['--values', join(umbrella.chart, v)]),
    ]);
    expect(stdout).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  it.each(profiles)(
    'renders every component, and a ProductPipeline naming the rendered relay and consumer Deployments, with the $name values',
    async ({ values }) => {
      const manifests = await umbrella.template({ values });
      for (const c of components) deploymentOf(manifests, c);
      const [pipeline, ...more] = ofKind(manifests, 'ProductPipeline') as (Manifest & {
        spec: {
          kafka: { topicManagement: string; clusterRef?: { name: string; namespace: string } };
          relay: { deploymentRef: { name: string }; databaseSecretRef: { name: string; key: string } };
          consumers: { groupId: string; deploymentRef: { name: string }; topics: string[] }[];
        };
      })[];
      expect(more).toHaveLength(0);
      expect(pipeline!.apiVersion).toBe('shopstream.io/v1alpha1');
      expect(pipeline!.spec.kafka.topicManagement).toBe('Strimzi');
      expect(pipeline!.spec.relay.deploymentRef.name).toBe(deploymentOf(manifests, 'relay').metadata.name);
      expect(pipeline!.spec.consumers.map((c) => c.deploymentRef.name)).toEqual([
        deploymentOf(manifests, 'consumer').metadata.name,
      ]);
      expect(pipeline!.spec.relay.databaseSecretRef).toEqual({ name: 'shopstream-db', key: 'url' });
      // The relay's replicas belong to the pipeline's scaling.
      expect(deploymentOf(manifests, 'relay').spec.replicas).toBeUndefined();
    },
  );

  it.each(profiles)(
    'renders api, relay and consumer from the workload chart under their aliases, as the charts it replaced ($name values)',
    async ({ values }) => {
      const manifests = await umbrella.template({ values });
      const ports: Record<string, [string, number]> = {
        api: ['http', 8080],
        relay: ['metrics', 9464],
        consumer: ['metrics', 9465],
      };
      for (const [c, [portName, port]] of Object.entries(ports)) {
        const named = (kind: string) =>
          ofKind(manifests, kind).filter((m) => m.metadata.labels?.['app.kubernetes.io/component'] === c);
        const [deployment] = named('Deployment') as Deployment[];
        const [service] = named('Service') as (Manifest & {
          spec: { ports: { name: string; port: number }[] };
        })[];
        expect({ c, deployment: deployment?.metadata.name, service: service?.metadata.name }).toEqual({
          c,
          deployment: `shopstream-${c}`,
          service: `shopstream-${c}`,
        });
        // Helm names an aliased chart after its alias: the labels are those of a chart named c.
        expect(deployment!.metadata.labels).toMatchObject({
          'helm.sh/chart': `${c}-0.1.0`,
          'app.kubernetes.io/name': c,
        });
        expect(deployment!.spec.template.spec.containers.map((k) => k.name)).toEqual([c]);
        expect(service!.spec.ports.map((p) => [p.name, p.port])).toEqual([[portName, port]]);
      }
      // The api's migration hook, the only Job of the three.
      const jobs = ofKind(manifests, 'Job').filter(
        (j) => j.metadata.labels?.['app.kubernetes.io/component'] === 'migrations',
      );
      expect(jobs.map((j) => j.metadata.name)).toEqual(['shopstream-api-migrate']);
    },
  );

  it('renders a KRaft Strimzi Kafka and its dual-role KafkaNodePool (kafka.strimzi.io/v1) only with the dev values', async () => {
    expect(ofKind(await umbrella.template(), 'Kafka')).toHaveLength(0);
    expect(ofKind(await umbrella.template({ values: ['values-production.yaml'] }), 'Kafka')).toHaveLength(0);

    const dev = await umbrella.template({ values: ['values-dev.yaml'] });
    // Strimzi 1.x serves v1 only; the fixture CRDs of apply-dry-run.int.test.ts refuse anything else.
    const strimzi = dev.filter((m) => m.apiVersion.startsWith('kafka.strimzi.io/'));
    expect(strimzi.map((m) => `${m.kind} ${m.apiVersion}`).sort()).toEqual([
      'Kafka kafka.strimzi.io/v1',
      'KafkaNodePool kafka.strimzi.io/v1',
    ]);
    const [kafka] = ofKind(dev, 'Kafka') as (Manifest & {
      spec: {
        kafka: {
          version: string;
          metadataVersion?: string;
          listeners: { port: number }[];
          replicas?: unknown;
        };
        zookeeper?: unknown;
      };
    })[];
    // KRaft and node pools are Strimzi 1.x's only mode: the 0.x opt-in annotations are gone.
    for (const annotation of ['strimzi.io/kraft', 'strimzi.io/node-pools'])
      expect(kafka!.metadata.annotations?.[annotation]).toBeUndefined();
    expect(kafka!.spec.kafka.version).toBe((await readExternalVersions()).STRIMZI_KAFKA_VERSION);
    expect(kafka!.spec.kafka.metadataVersion).toBeUndefined(); // Strimzi's default for the version
    expect(kafka!.spec.kafka.replicas).toBeUndefined();
    expect(kafka!.spec.zookeeper).toBeUndefined();
    const pools = ofKind(dev, 'KafkaNodePool') as (Manifest & {
      spec: { replicas: number; roles: string[]; storage: { type: string } };
    })[];
    expect(pools).toHaveLength(1);
    expect(pools[0]!.metadata.labels?.['strimzi.io/cluster']).toBe(kafka!.metadata.name);
    expect(pools[0]!.spec).toMatchObject({ replicas: 1, roles: ['controller', 'broker'] });

    // The pipeline and the components point at that cluster's bootstrap Service.
    const pipeline = ofKind(dev, 'ProductPipeline')[0] as Manifest & {
      spec: { kafka: { clusterRef: { name: string; namespace: string }; bootstrapServers: string } };
    };
    expect(pipeline.spec.kafka.clusterRef).toEqual({ name: kafka!.metadata.name, namespace: 'shop' });
    expect(pipeline.spec.kafka.bootstrapServers).toBe(`${kafka!.metadata.name}-kafka-bootstrap.shop:9092`);
    for (const c of ['relay', 'consumer']) {
      const env = deploymentOf(dev, c).spec.template.spec.containers.flatMap(
        (k) => (k as { env?: { name: string; value?: string }[] }).env ?? [],
      );
      expect(env.find((e) => e.name === 'KAFKA_BROKERS')?.value).toBe(
        `${kafka!.metadata.name}-kafka-bootstrap:9092`,
      );
    }
    for (const c of ['api', 'consumer', 'operator']) expect(deploymentOf(dev, c).spec.replicas).toBe(1);
  });

  it("defaults to k8s/versions.env's Kafka version, a file bash sources as the tests read it", async () => {
    const versions = await readExternalVersions();
    const values = loadYaml<{ strimzi: { kafka: { version: string } } }>(
      await readFile(join(umbrellaDir, 'values.yaml'), 'utf8'),
    );
    expect(values.strimzi.kafka.version).toBe(versions.STRIMZI_KAFKA_VERSION);
    const names = Object.keys(versions);
    const { stdout } = await promisify(execFile)('bash', [
      '-c',
      'set -eu; . "$1"; shift; for n in "$@"; do printf "%s=%s\\n" "$n" "${!n}"; done',
      'bash',
      externalVersionsFile,
      ...names,
    ]);
    expect(stdout).toBe(names.map((n) => `${n}=${versions[n]}\n`).join(''));
  });

  it.each(profiles)(
    'ships each dashboard file as a ConfigMap labelled grafana_dashboard: "1" with the same valid JSON ($name values)',
    async ({ values }) => {
      const configMaps = ofKind(await umbrella.template({ values }), 'ConfigMap').filter(
        (c) => c.metadata.labels?.grafana_dashboard === '1',
      ) as (Manifest & { data: Record<string, string> })[];
      const shipped = new Map(configMaps.flatMap((c) => Object.entries(c.data)));
      expect([...shipped.keys()].sort()).toEqual(['consumer-lag.json', 'pipeline-overview.json']);
      for (const [file, json] of shipped) {
        const dashboard = JSON.parse(json) as { title: string; uid: string };
        expect(dashboard).toEqual(JSON.parse(await readFile(join(dashboardsDir, file), 'utf8')));
        expect(dashboard.title).toMatch(/Pipeline overview|Consumer lag/);
      }
    },
  );

  it('renders the PrometheusRule with the rule file groups unchanged, only when enabled', async () => {
    expect(ofKind(await umbrella.template(), 'PrometheusRule')).toHaveLength(0);
    const production = await umbrella.template({ values: ['values-production.yaml'] });
    const [rule] = ofKind(production, 'PrometheusRule') as (Manifest & {
      spec: { groups: { name: string; rules: unknown[] }[] };
    })[];
    expect(rule!.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(rule!.metadata.labels?.release).toBe('kube-prometheus-stack');
    // RelayAtMaxReplicas reads the operator's max-replicas gauge: no per-pipeline copy is rendered.
    expect(rule!.spec.groups).toEqual((await readRuleFile()).groups);
  });

  it('renders a PodMonitor that selects every component pod on a port that exists, only when enabled', async () => {
    expect(ofKind(await umbrella.template(), 'PodMonitor')).toHaveLength(0);
    const production = await umbrella.template({ values: ['values-production.yaml'] });
    const [monitor] = ofKind(production, 'PodMonitor') as (Manifest & {
      spec: {
        selector: Parameters<typeof selects>[0];
        podMetricsEndpoints: { port: string; path: string }[];
      };
    })[];
    expect(monitor!.apiVersion).toBe('monitoring.coreos.com/v1');
    const expectedPorts: Record<string, number> = { api: 8080, relay: 9464, consumer: 9465, operator: 9466 };
    for (const c of components) {
      const pod = deploymentOf(production, c).spec.template;
      expect({ c, selected: selects(monitor!.spec.selector, pod.metadata.labels) }).toEqual({
        c,
        selected: true,
      });
      const ports = pod.spec.containers.flatMap((k) => k.ports ?? []);
      const scraped = monitor!.spec.podMetricsEndpoints
        .map((e) => ports.find((p) => p.name === e.port))
        .filter((p) => p !== undefined);
      expect({ c, ports: scraped.map((p) => p.containerPort) }).toEqual({ c, ports: [expectedPorts[c]] });
    }
    // Nothing else in the release (e.g. the migration Job) is scraped.
    for (const job of ofKind(production, 'Job') as unknown as Deployment[]) {
      expect(selects(monitor!.spec.selector, job.spec.template.metadata.labels ?? {})).toBe(false);
    }
  });

  it('turns on PodDisruptionBudgets and NetworkPolicies for every component in production', async () => {
    const production = await umbrella.template({ values: ['values-production.yaml'] });
    for (const kind of ['PodDisruptionBudget', 'NetworkPolicy']) {
      const selected = ofKind(production, kind).map((m) => {
        const spec = m.spec as { selector?: object; podSelector?: object };
        const selector = (spec.selector ?? spec.podSelector) as Parameters<typeof selects>[0];
        return components.find((c) =>
          selects(selector, deploymentOf(production, c).spec.template.metadata.labels),
        );
      });
      expect({ kind, components: [...new Set(selected)].sort() }).toEqual({
        kind,
        components: [...components].sort(),
      });
    }
    for (const c of ['api', 'consumer', 'operator']) {
      expect(deploymentOf(production, c).spec.replicas).toBeGreaterThan(1);
    }
  });

  // Every component pinned by digest behind a mirror, with a pull Secret for every pod.
  const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;
  const pinned = [
    'global.imageRegistry=mirror.example.com',
    'global.imagePullSecrets[0]=global-pull',
    'global.imagePullSecrets[1].name=registry-credentials',
    'operator.imagePullSecrets[0]=operator-pull',
    'pipeline.deletionHook.enabled=true',
    ...components.map((c) => `${c}.image.digest=${DIGEST}`),
  ];

  it.each(profiles)(
    'passes helm lint --strict with the $name values and a global registry, digests and pull Secrets',
    async ({ values }) => {
      const { stdout } = await umbrella.helm([
        'lint',
        '--strict',
        umbrella.chart,
        ...values.flatMap((v) => ['--values', join(umbrella.chart, v)]),
        ...pinned.flatMap((s) => ['--set', s]),
      ]);
      expect(stdout).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    },
  );

  it.each(profiles)(
    'pulls every pod image (Deployments, Jobs, hooks) from global.imageRegistry by digest with the global pull Secrets, and keeps the chart version off pod templates ($name values)',
    async ({ values }) => {
      const manifests = await umbrella.template({ values, set: pinned });
      const pods = manifests
        .filter((m) => ['Deployment', 'Job', 'StatefulSet', 'DaemonSet'].includes(m.kind))
        .map((m) => ({
          where: `${m.kind} ${m.metadata.name}`,
          template: (
            m.spec as {
              template: {
                metadata?: { labels?: Record<string, string> };
                spec: {
                  containers: { image: string }[];
                  initContainers?: { image: string }[];
                  imagePullSecrets?: { name: string }[];
                };
              };
            }
          ).template,
        }));
      // Four Deployments, the api's migration hook and the pipeline deletion hook.
      expect(pods.map((p) => p.where.split(' ')[0]).sort()).toEqual([
        'Deployment',
        'Deployment',
        'Deployment',
        'Deployment',
        'Job',
        'Job',
      ]);
      const pinnedImage = new RegExp(
        `^mirror\\.example\\.com/shopstream/(api|relay|consumer|operator)@${DIGEST}$`,
      );
      for (const { where, template } of pods) {
        const images = [...(template.spec.initContainers ?? []), ...template.spec.containers].map(
          (c) => c.image,
        );
        expect({ where, unpinned: images.filter((image) => !pinnedImage.test(image)) }).toEqual({
          where,
          unpinned: [],
        });
        const secrets = (template.spec.imagePullSecrets ?? []).map((s) => s.name);
        expect({ where, secrets: secrets.slice(0, 2) }).toEqual({
          where,
          secrets: ['global-pull', 'registry-credentials'],
        });
        const releaseLabels = Object.keys(template.metadata?.labels ?? {}).filter(
          (k) => k === 'helm.sh/chart' || k === 'app.kubernetes.io/version',
        );
        expect({ where, releaseLabels }).toEqual({ where, releaseLabels: [] });
      }
      // The operator's Deployment and the deletion hook (the operator image) add its own pull Secret.
      const withOperatorSecret = pods.filter((p) =>
        (p.template.spec.imagePullSecrets ?? []).some((s) => s.name === 'operator-pull'),
      );
      expect(withOperatorSecret.map((p) => p.template.spec.containers[0]!.image)).toEqual([
        `mirror.example.com/shopstream/operator@${DIGEST}`,
        `mirror.example.com/shopstream/operator@${DIGEST}`,
      ]);
    },
  );

  it.each([
    ['an image digest that is not sha256:<64 hex>', ['operator.image.digest=latest'], /digest/],
    ['a pull Secret without a name', ['global.imagePullSecrets[0].key=x'], /imagePullSecrets/],
    ['a Kafka without nodes', ['strimzi.kafka.replicas=0'], /replicas/],
    ['Kafka 3 (ZooKeeper) instead of 4.x KRaft', ['strimzi.kafka.version=3.9.0'], /version/],
    ['an unknown scaling mode', ['pipeline.relay.scaling.mode=Manual'], /mode/],
    ['a scrape interval that is not a duration', ['monitoring.podMonitor.interval=often'], /interval/],
    ['a key the chart does not know', ['monitoring.grafana.enabled=true'], /grafana/],
    ['a dashboard label that is not a string map', ['monitoring.dashboards.labels=oops'], /labels/],
    ['a topic without partitions', ['pipeline.topics[0].partitions=null'], /partitions/],
    // The workload chart's schema checks each alias's section as that component.
    [
      "a relay config key in the consumer's section",
      ['consumer.config.RELAY_BATCH_SIZE=5'],
      /consumer:[\s\S]*additional properties 'RELAY_BATCH_SIZE' not allowed/,
    ],
    ['a component section naming another component', ['relay.component=consumer'], /\/relay\/component/],
    ['the former kafka.sasl of a component', ['relay.kafka.sasl.enabled=true'], /'sasl' not allowed/],
  ])('rejects %s (values.schema.json)', async (_what, set, key) => {
    const rejected = await umbrella.template({ set }).then(
      () => undefined,
      (err: unknown) => err as Error,
    );
    expect(rejected?.message).toMatch(/values don't meet the specifications of the schema/);
    expect(rejected?.message).toMatch(key);
  });
});
