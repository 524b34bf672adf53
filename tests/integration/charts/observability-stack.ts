import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { sign } from 'hono/jwt';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { migrate } from '@shopstream/shared';
import {
  createTestDatabase,
  freePort,
  infraEnv,
  installPipelineCrd,
  kubeConfig,
  randomGroup,
  randomNamespace,
  randomTopic,
  startService,
  waitFor,
} from '../../harness/index.js';
import type { ServiceProcess, TestDatabase } from '../../harness/index.js';

export type Component = 'api' | 'relay' | 'consumer' | 'operator';

export interface ObservedStack {
  apiUrl: string;
  db: TestDatabase;
  sql: pg.Pool;
  kafka: Kafka;
  topic: string;
  group: string;
  namespace: string;
  /** Where each process serves /metrics (host:port). */
  metricsTargets: Record<Component, string>;
  processes: Record<Component, ServiceProcess>;
  token(seller: string): Promise<string>;
  stop(): Promise<void>;
}

const secret = 'observability-secret-of-at-least-32-characters';

/**
 * The four processes as they run in a cluster, on a fresh database, topic and namespace: the API,
 * a relay, a consumer, and an operator reconciling a ProductPipeline (Direct topics, Operator
 * scaling) whose relay and consumer Deployments are API objects only (nothing runs them here).
 * The topic refuses messages over 100 kB, so a test can make the relay fail a publish for real.
 */
export async function startObservedStack(): Promise<ObservedStack> {
  const env = infraEnv();
  const db = await createTestDatabase('observability');
  await migrate(db.url);
  const sql = new pg.Pool({ connectionString: db.url, max: 2 });
  // An idle client the teardown's DROP DATABASE ... WITH (FORCE) terminates must not fail the file (57P01).
  sql.on('error', () => undefined);
  const topic = randomTopic('product.events');
  const group = randomGroup('product-consumer');
  const topicConfig = { 'max.message.bytes': '100000' };
  const kafka = new Kafka({
    clientId: 'observability',
    brokers: [env.kafkaBrokers],
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [
      {
        topic,
        numPartitions: 3,
        replicationFactor: 1,
        configEntries: Object.entries(topicConfig).map(([name, value]) => ({ name, value })),
      },
      { topic: `${topic}.dlq`, numPartitions: 1, replicationFactor: 1 },
    ],
    waitForLeaders: true,
  });
  await admin.disconnect();

  const kc = kubeConfig();
  const namespace = randomNamespace('observability');
  await installPipelineCrd(kc);
  const core = kc.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  await core.createNamespacedSecret({
    namespace,
    body: { metadata: { name: 'shopstream-db' }, stringData: { url: db.url } },
  });
  for (const name of ['shopstream-relay', 'shopstream-consumer']) {
    await kc.makeApiClient(AppsV1Api).createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: name } },
          template: {
            metadata: { labels: { app: name } },
            spec: { containers: [{ name, image: `ghcr.io/shopstream/${name}:test` }] },
          },
        },
      },
    });
  }
  await kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
    group: 'shopstream.io',
    version: 'v1alpha1',
    namespace,
    plural: 'productpipelines',
    body: {
      apiVersion: 'shopstream.io/v1alpha1',
      kind: 'ProductPipeline',
      metadata: { name: 'products' },
      spec: {
        kafka: { bootstrapServers: env.kafkaBrokers, topicManagement: 'Direct' },
        topics: [
          { name: topic, partitions: 3, replicas: 1, config: topicConfig },
          { name: `${topic}.dlq`, partitions: 1, replicas: 1 },
        ],
        relay: {
          deploymentRef: { name: 'shopstream-relay' },
          databaseSecretRef: { name: 'shopstream-db', key: 'url' },
          scaling: { mode: 'Operator', minReplicas: 1, maxReplicas: 3, pollIntervalSeconds: 2 },
        },
        consumers: [{ groupId: group, deploymentRef: { name: 'shopstream-consumer' }, topics: [topic] }],
      },
    },
  });

  const ports = {
    api: await freePort(),
    relay: await freePort(),
    consumer: await freePort(),
    operator: await freePort(),
  };
  const common = { DATABASE_URL: db.url, KAFKA_BROKERS: env.kafkaBrokers, LOG_LEVEL: 'warn' };
  const metricsOn = (c: Component) => ({ METRICS_PORT: String(ports[c]), METRICS_HOST: '127.0.0.1' });
  const processes: Record<Component, ServiceProcess> = {
    api: startService('services/api/src/main.ts', {
      ...common,
      PORT: String(ports.api),
      HOST: '127.0.0.1',
      JWT_SECRET: secret,
      PRODUCT_EVENTS_TOPIC: topic,
    }),
    relay: startService('services/relay/src/main.ts', {
      ...common,
      ...metricsOn('relay'),
      // A refused publish goes DEAD quickly: the dashboards' failure and DEAD panels get data.
      RELAY_MAX_ATTEMPTS: '2',
      RELAY_BACKOFF_BASE_MS: '100',
      RELAY_BACKOFF_MAX_MS: '300',
    }),
    consumer: startService('services/consumer/src/main.ts', {
      ...common,
      ...metricsOn('consumer'),
      CONSUMER_TOPIC: topic,
      CONSUMER_GROUP_ID: group,
      CONSUMER_LAG_INTERVAL_MS: '500',
    }),
    operator: startService('operator/src/main.ts', {
      KUBECONFIG: env.kubeconfig,
      OPERATOR_NAMESPACE: namespace,
      WATCH_NAMESPACE: namespace,
      POD_NAME: `operator-${namespace}`,
      LEADER_ELECTION_LEASE_MS: '4000',
      LEADER_ELECTION_RENEW_DEADLINE_MS: '3000',
      LEADER_ELECTION_RETRY_MS: '500',
      LOG_LEVEL: 'warn',
      ...metricsOn('operator'),
    }),
  };
  const metricsTargets = Object.fromEntries(
    Object.entries(ports).map(([c, port]) => [c, `127.0.0.1:${port}`]),
  ) as Record<Component, string>;
  for (const [c, target] of Object.entries(metricsTargets)) {
    await waitFor(async () => (await fetch(`http://${target}/readyz`).catch(() => undefined))?.ok, {
      description: `${c} at ${target} to be ready (output: ${processes[c as Component].output().slice(0, 2000)})`,
      timeoutMs: 60_000,
    });
  }
  return {
    apiUrl: `http://${metricsTargets.api}`,
    db,
    sql,
    kafka,
    topic,
    group,
    namespace,
    metricsTargets,
    processes,
    token: (seller) => sign({ sub: seller, exp: Math.floor(Date.now() / 1000) + 3600 }, secret, 'HS256'),
    async stop() {
      for (const p of Object.values(processes)) p.child.kill('SIGTERM');
      await Promise.all(Object.values(processes).map((p) => p.exited));
      await sql.end();
      await db.drop();
      await core.deleteNamespace({ name: namespace }).catch(() => undefined);
      const a = kafka.admin();
      await a.connect();
      await a.deleteTopics({ topics: [topic, `${topic}.dlq`] }).catch(() => undefined);
      await a.disconnect();
    },
  };
}

export interface PrometheusServer {
  url: string;
  /** An instant query through the HTTP API: the JSON body, whatever its status. */
  query(
    expr: string,
  ): Promise<{ status: string; error?: string; data?: { resultType: string; result: unknown[] } }>;
  output(): string;
  stop(): Promise<void>;
}

/** A real Prometheus scraping `targets` (job name → host:port) every second, its TSDB in a temp dir. */
export async function startPrometheus(targets: Record<string, string>): Promise<PrometheusServer> {
  const dir = await mkdtemp(join(tmpdir(), 'prometheus-'));
  const config = join(dir, 'prometheus.yml');
  const scrapeConfigs = Object.entries(targets)
    .map(([job, target]) => `  - job_name: ${job}\n    static_configs:\n      - targets: ['${target}']\n`)
    .join('');
  await writeFile(
    config,
    `global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n${scrapeConfigs}`,
  );
  const port = await freePort();
  const child = spawn(
    infraEnv().prometheus,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${url}/-/ready`).catch(() => undefined))?.ok, {
    description: `Prometheus to be ready (output: ${output.slice(0, 2000)})`,
    timeoutMs: 30_000,
  });
  return {
    url,
    async query(expr) {
      const res = await fetch(`${url}/api/v1/query`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ query: expr }),
      });
      return (await res.json()) as Awaited<ReturnType<PrometheusServer['query']>>;
    },
    output: () => output,
    async stop() {
      child.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
