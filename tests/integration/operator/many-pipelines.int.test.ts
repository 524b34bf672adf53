import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { Kafka, logLevel } from 'kafkajs';
import type { ProductPipeline } from '@shopstream/operator';
import { migrate } from '@shopstream/shared';
import {
  createTestDatabase,
  infraEnv,
  installPipelineCrd,
  kubeConfig,
  randomNamespace,
  randomTopic,
  repoRoot,
  waitFor,
} from '../../harness/index.js';
import type { TestDatabase } from '../../harness/index.js';
import { condition, createDeployment, pipelines, startOperator } from './operator-fixture.js';
import type { OperatorProcess } from './operator-fixture.js';

const NAMESPACES = 10;
const PER_NAMESPACE = 10;
const PIPELINES = NAMESPACES * PER_NAMESPACE;
/** The default relay poll: what a real installation runs. */
const POLL_SECONDS = 15;
const WINDOW_MS = 60_000;
const REPORT = join(repoRoot, 'tests', 'artifacts', 'many-pipelines.json');

const group = 'shopstream.io';
const version = 'v1alpha1';
const plural = 'productpipelines';

/** Sum of a Prometheus counter's samples whose labels match `labels` (all of them when empty). */
function counter(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).some(([k, v]) => !line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/**
 * 100 pipelines in 10 namespaces under one real operator process (every namespace, narrowed to
 * this test's pipelines by WATCH_SELECTOR), each with a Direct topic, Operator-mode relay scaling of
 * its own Deployment from a real outbox, and a consumer group: what the operator costs the API
 * server and Kafka once everything is Ready, measured by its own request and connection counters
 * over one minute. Numbers go to tests/artifacts/many-pipelines.json.
 */
describe('one operator, 100 pipelines in 10 namespaces', () => {
  const kc = kubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const run = randomNamespace('many').replace(/^many-/, '');
  const selector = `shopstream.io/scale-test=${run}`;
  const namespaces = Array.from({ length: NAMESPACES }, (_, i) => `many-${run}-${i}`);
  const topics: string[] = [];
  let db: TestDatabase;
  let operator: OperatorProcess;

  const listOurs = async () =>
    (
      (await custom.listClusterCustomObject({ group, version, plural, labelSelector: selector })) as {
        items: ProductPipeline[];
      }
    ).items;

  beforeAll(async () => {
    await installPipelineCrd(kc);
    db = await createTestDatabase('many');
    await migrate(db.url);
    for (const namespace of namespaces) {
      await core.createNamespace({ body: { metadata: { name: namespace } } });
      await core.createNamespacedSecret({
        namespace,
        body: { metadata: { name: 'outbox-db' }, stringData: { url: db.url } },
      });
      for (let i = 0; i < PER_NAMESPACE; i++) {
        const name = `shop-${i}`;
        const topic = randomTopic(`many.${i}`);
        topics.push(topic);
        await createDeployment(kc, namespace, `relay-${i}`, 1);
        await pipelines(kc, namespace).create(
          name,
          {
            kafka: { bootstrapServers: infraEnv().kafkaBrokers, topicManagement: 'Direct' },
            topics: [{ name: topic, partitions: 1 }],
            relay: {
              deploymentRef: { name: `relay-${i}` },
              databaseSecretRef: { name: 'outbox-db', key: 'url' },
              scaling: {
                mode: 'Operator',
                minReplicas: 1,
                maxReplicas: 3,
                pollIntervalSeconds: POLL_SECONDS,
              },
            },
            consumers: [{ groupId: `many-${run}-${i}`, topics: [topic] }],
          },
          { 'shopstream.io/scale-test': run },
        );
      }
    }
    operator = await startOperator(namespaces[0]!, 'op-many', infraEnv().kubeconfig, {
      WATCH_NAMESPACE: undefined,
      WATCH_SELECTOR: selector,
      LOG_LEVEL: 'warn',
      // The chart's lease timings, not the fixture's fast-failover ones: they are part of the cost.
      LEADER_ELECTION_LEASE_MS: undefined,
      LEADER_ELECTION_RENEW_DEADLINE_MS: undefined,
      LEADER_ELECTION_RETRY_MS: undefined,
    });
  }, 180_000);

  afterAll(async () => {
    // Deleted while the operator runs, so its finalizer lets them go (and deletes their topics).
    for (const p of await listOurs().catch(() => []))
      await custom
        .deleteNamespacedCustomObject({
          group,
          version,
          plural,
          namespace: p.metadata.namespace,
          name: p.metadata.name,
        })
        .catch(() => undefined);
    await waitFor(async () => (await listOurs()).length === 0, {
      description: 'every pipeline finalized',
      timeoutMs: 120_000,
    }).catch(() => undefined);
    operator?.child.kill('SIGTERM');
    await operator?.exited;
    for (const namespace of namespaces)
      await core.deleteNamespace({ name: namespace }).catch(() => undefined);
    const kafka = new Kafka({
      clientId: 'many-cleanup',
      brokers: [infraEnv().kafkaBrokers],
      logLevel: logLevel.NOTHING,
    });
    const admin = kafka.admin();
    await admin.connect();
    const left = new Set(await admin.listTopics());
    await admin.deleteTopics({ topics: topics.filter((t) => left.has(t)) }).catch(() => undefined);
    await admin.disconnect();
    await db?.drop();
  }, 240_000);

  it('gets every pipeline Ready, then in steady state writes nothing, opens no Kafka connection and keeps its queue drained', async () => {
    await waitFor(
      async () => {
        const ours = await listOurs();
        return (
          ours.length === PIPELINES &&
          ours.every(
            (p) =>
              condition(p, 'Ready')?.status === 'True' &&
              p.status?.observedGeneration === p.metadata.generation &&
              p.status?.relay?.currentReplicas === 1,
          )
        );
      },
      { description: `all ${PIPELINES} pipelines Ready`, timeoutMs: 240_000, intervalMs: 2_000 },
    ).catch(async (err: unknown) => {
      const ours = await listOurs();
      const notReady = ours.filter((p) => condition(p, 'Ready')?.status !== 'True');
      throw new Error(
        `${ours.length} pipelines, ${notReady.length} not Ready, e.g. ${JSON.stringify(notReady[0]?.status)}\n` +
          operator.output().slice(-4000),
        { cause: err },
      );
    });
    // One full poll after the last one became Ready: what follows is steady state.
    await new Promise((r) => setTimeout(r, (POLL_SECONDS + 2) * 1000));

    const before = await operator.metrics();
    const depths: { atMs: number; depth: number }[] = [];
    const start = Date.now();
    while (Date.now() - start < WINDOW_MS) {
      depths.push({
        atMs: Date.now() - start,
        depth: counter(await operator.metrics(), 'shopstream_operator_workqueue_depth'),
      });
      await new Promise((r) => setTimeout(r, 500));
    }
    const after = await operator.metrics();
    const minutes = (Date.now() - start) / 60_000;
    const delta = (name: string, labels: Record<string, string> = {}) =>
      counter(after, name, labels) - counter(before, name, labels);

    // Per verb and resource: "GET secrets", "PUT leases", ...
    const requestKinds = new Set(
      [...after.matchAll(/^shopstream_operator_kube_requests_total\{([^}]*)\}/gm)].map((m) => {
        const labels = Object.fromEntries([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
        return `${labels.verb} ${labels.resource}`;
      }),
    );
    const requests = Object.fromEntries(
      [...requestKinds].map((kind) => {
        const [verb, resource] = kind.split(' ') as [string, string];
        return [kind, delta('shopstream_operator_kube_requests_total', { verb, resource })];
      }),
    );
    const totalRequests = Object.values(requests).reduce((a, b) => a + b, 0);
    /** Keeping the lease is the elector's, per operator and not per pipeline. */
    const leaseRequests = Object.entries(requests)
      .filter(([kind]) => kind.endsWith(' leases'))
      .reduce((a, [, n]) => a + n, 0);
    const reconciles = delta('shopstream_operator_reconcile_total', { controller: 'pipeline' });
    const report = {
      pipelines: PIPELINES,
      namespaces: NAMESPACES,
      pollIntervalSeconds: POLL_SECONDS,
      windowSeconds: Math.round(minutes * 60),
      reconcilesPerMinute: Math.round(reconciles / minutes),
      kubeRequestsPerMinute: Math.round(totalRequests / minutes),
      kubeRequestsPerMinuteByKind: Object.fromEntries(
        Object.entries(requests).map(([kind, n]) => [kind, Math.round(n / minutes)]),
      ),
      kubeRequestsPerReconcileBesidesLease: reconciles
        ? Number(((totalRequests - leaseRequests) / reconciles).toFixed(2))
        : null,
      kafkaAdminConnectionsPerMinute: delta('shopstream_operator_kafka_admin_connections_total') / minutes,
      kafkaAdminConnectionsSinceStart: counter(after, 'shopstream_operator_kafka_admin_connections_total'),
      statusWrites: {
        written: delta('shopstream_operator_status_writes_total', { result: 'written' }),
        unchanged: delta('shopstream_operator_status_writes_total', { result: 'unchanged' }),
      },
      workQueueDepthMax: Math.max(...depths.map((d) => d.depth)),
    };
    await mkdir(join(repoRoot, 'tests', 'artifacts'), { recursive: true });
    await writeFile(REPORT, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`many-pipelines: ${JSON.stringify(report)}\n`);

    // Every pipeline was polled in the window (4 polls a minute each, give or take the jitter)...
    expect(report.statusWrites.unchanged).toBeGreaterThanOrEqual(PIPELINES * 2);
    // ...and nothing had changed, so nothing was written: no status, no scale, no apply, no Event.
    expect(report.statusWrites.written).toBe(0);
    const writes = Object.entries(requests).filter(([kind, n]) => n > 0 && !kind.startsWith('GET '));
    expect(writes.filter(([kind]) => !kind.endsWith(' leases'))).toEqual([]);
    // One Kafka admin client for the one bootstrap string, kept: no connection in steady state.
    expect(delta('shopstream_operator_kafka_admin_connections_total')).toBe(0);
    // The queue keeps up: it was empty at some moment of every poll interval of the window.
    for (let from = 0; from + POLL_SECONDS * 1000 <= WINDOW_MS; from += POLL_SECONDS * 1000) {
      const slice = depths.filter((d) => d.atMs >= from && d.atMs < from + POLL_SECONDS * 1000);
      expect(slice.some((d) => d.depth === 0)).toBe(true);
    }
  }, 420_000);
});
