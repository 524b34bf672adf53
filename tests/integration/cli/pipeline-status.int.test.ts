import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import { Kafka, logLevel } from 'kafkajs';
import type { Admin } from 'kafkajs';
import pg from 'pg';
import { migrate } from '@shopstream/shared';
import {
  createTestDatabase,
  freePort,
  infraEnv,
  installPipelineCrd,
  randomGroup,
  randomNamespace,
  randomTopic,
  seedOutbox,
  serviceAccountKubeconfig,
  startPrivateKube,
} from '../../harness/index.js';
import type { PrivateKube, TestDatabase } from '../../harness/index.js';
import { parseJson, runCli } from './cli-fixture.js';

/**
 * `shopstream status` and `diagnose` reading the ProductPipeline from the real kube-apiserver. The
 * test plays the operator: it writes the pipeline's status through the status subresource, with an
 * Execute reset in progress that holds the consumer Deployment at 0, then runs the real CLI.
 *
 * The API server is a private one (same binaries and PKI as the shared one): the CRD is
 * cluster-scoped, and worktrees on other commits install their own versions of it into the shared
 * server while this runs — one without status.consumers[].heldForReset prunes exactly the field
 * under test. PostgreSQL and Kafka are the shared ones.
 */

const api = { group: 'shopstream.io', version: 'v1alpha1', plural: 'productpipelines' };
let kube: PrivateKube;
let kc: KubeConfig;
let custom: CustomObjectsApi;
let core: CoreV1Api;
const brokers = infraEnv().kafkaBrokers;

const namespace = randomNamespace('cli-pipeline');
const topic = randomTopic('cli.pipeline');
const group = randomGroup('cli-pipeline');
/** Started a minute ago with a 600 s timeout: the deadline is 540 s ahead whatever the test's pace. */
const startedAt = new Date(Date.now() - 60_000).toISOString();
const deadline = new Date(Date.parse(startedAt) + 600_000).toISOString();

let db: TestDatabase;
let sql: pg.Pool;
let admin: Admin;
let work: string;
let env: Record<string, string>;

interface Finding {
  id: string;
  severity: string;
  sentence: string;
  fix: string | null;
}
interface DiagnoseJson {
  findings: Finding[];
}

const spec = (groupId: string) => ({
  kafka: { bootstrapServers: brokers, topicManagement: 'Direct' },
  topics: [{ name: topic, partitions: 3 }],
  relay: {
    deploymentRef: { name: 'shop-relay' },
    databaseSecretRef: { name: 'outbox-db', key: 'url' },
    scaling: { mode: 'Operator', minReplicas: 1, maxReplicas: 4 },
  },
  consumers: [
    {
      groupId,
      deploymentRef: { name: 'shop-consumer' },
      topics: [topic],
      offsetReset: { requestId: 'replay-1', to: { earliest: true }, mode: 'Execute', timeoutSeconds: 600 },
    },
  ],
});

async function createPipeline(ns: string, name: string, groupId = group): Promise<void> {
  await custom.createNamespacedCustomObject({
    ...api,
    namespace: ns,
    body: {
      apiVersion: 'shopstream.io/v1alpha1',
      kind: 'ProductPipeline',
      metadata: { name },
      spec: spec(groupId),
    },
  });
}

/** What the operator writes mid-reset (operator/DESIGN.md, step 2), through /status like it does. */
async function playOperator(ns: string, name: string): Promise<void> {
  const now = new Date().toISOString();
  const condition = (type: string, status: string, reason: string, message: string) => ({
    type,
    status,
    reason,
    message,
    observedGeneration: 1,
    lastTransitionTime: now,
  });
  await custom.patchNamespacedCustomObjectStatus(
    {
      ...api,
      namespace: ns,
      name,
      body: {
        status: {
          observedGeneration: 1,
          conditions: [
            condition('Ready', 'True', 'Reconciled', ''),
            condition('TopicsReady', 'True', 'TopicsReady', ''),
            condition(
              'RelayScaled',
              'False',
              'DeploymentNotFound',
              `relay Deployment ${ns}/shop-relay not found`,
            ),
            condition(
              'OffsetResetSucceeded',
              'Unknown',
              'InProgress',
              'replay-1: waiting for the group to be Empty',
            ),
          ],
          relay: { pendingEvents: 4, currentReplicas: 0 },
          consumers: [
            {
              groupId: group,
              state: 'Dead',
              members: 0,
              resetInProgress: {
                requestId: 'replay-1',
                phase: 'ScalingDown',
                startedAt,
                lastError: 'group still has 1 member(s)',
              },
              heldForReset: { requestId: 'replay-1', deployment: 'shop-consumer', replicas: 3 },
            },
          ],
        },
      },
    },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}

beforeAll(async () => {
  kube = await startPrivateKube();
  kc = kube.kubeConfig;
  custom = kc.makeApiClient(CustomObjectsApi);
  core = kc.makeApiClient(CoreV1Api);
  await installPipelineCrd(kc);
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  // The consumer Deployment as the operator leaves it mid-reset: at 0 (the restore record is in the
  // pipeline's status, heldForReset).
  await kc.makeApiClient(AppsV1Api).createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name: 'shop-consumer' },
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: 'shop-consumer' } },
        template: {
          metadata: { labels: { app: 'shop-consumer' } },
          spec: { containers: [{ name: 'consumer', image: 'shopstream/consumer:test' }] },
        },
      },
    },
  });
  await createPipeline(namespace, 'products');
  await playOperator(namespace, 'products');

  db = await createTestDatabase('clipipe');
  await migrate(db.url);
  sql = new pg.Pool({ connectionString: db.url, max: 2 });
  // Four PENDING events and no relay: diagnose's relay advice is exercised.
  await seedOutbox(sql, { topic, products: 4, eventsPerProduct: 1 });
  admin = new Kafka({
    clientId: 'cli-pipeline-test',
    brokers: [brokers],
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  await admin.createTopics({
    topics: [{ topic, numPartitions: 3, replicationFactor: 1 }],
    waitForLeaders: true,
  });

  work = await mkdtemp(join(tmpdir(), 'cli-pipeline-'));
  env = {
    DATABASE_URL: db.url,
    KAFKA_BROKERS: brokers,
    CONSUMER_GROUP_ID: group,
    CONSUMER_TOPIC: topic,
    KUBECONFIG: kube.kubeconfigPath,
    SHOPSTREAM_NAMESPACE: namespace,
  };
});

afterAll(async () => {
  await admin?.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin?.disconnect();
  await sql?.end();
  await db?.drop();
  if (work) await rm(work, { recursive: true, force: true });
  await kube?.destroy();
});

const kubectlScale =
  /kubectl scale deployment (shop-consumer|shop-relay|shopstream-relay|shopstream-consumer)/;

describe('shopstream status with a kubeconfig', () => {
  it('shows the reset in progress, the Deployment it holds and what it restores, the conditions and the relay owner (--json)', async () => {
    const result = await runCli(['status', '--json'], env);
    expect(result.code).toBe(0);
    const status = parseJson<{
      consumerGroup: { state: string; members: number };
      pipeline: Record<string, unknown>;
    }>(result);
    expect(status.pipeline).toMatchObject({
      reachable: true,
      namespace,
      pipeline: {
        namespace,
        name: 'products',
        paused: false,
        relay: {
          deployment: 'shop-relay',
          scalingMode: 'Operator',
          minReplicas: 1,
          maxReplicas: 4,
          currentReplicas: 0,
        },
        consumer: {
          groupId: group,
          deployment: 'shop-consumer',
          offsetReset: { requestId: 'replay-1', mode: 'Execute', timeoutSeconds: 600 },
          resetInProgress: {
            requestId: 'replay-1',
            phase: 'ScalingDown',
            startedAt,
            deadline,
            timeoutSeconds: 600,
            lastError: 'group still has 1 member(s)',
          },
          held: { requestId: 'replay-1', deployment: 'shop-consumer', replicas: 3, scaledObject: null },
        },
      },
    });
    const conditions = (status.pipeline.pipeline as { conditions: { type: string; status: string }[] })
      .conditions;
    expect(conditions.map((c) => `${c.type}=${c.status}`).sort()).toEqual([
      'OffsetResetSucceeded=Unknown',
      'Ready=True',
      'RelayScaled=False',
      'TopicsReady=True',
    ]);
    // Kafka's own view is still there, beside the pipeline's.
    expect(status.consumerGroup).toMatchObject({ members: 0 });
  });

  it('says the same in text, with the held Deployment instead of "no consumer is running"', async () => {
    const result = await runCli(['status'], env);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`pipeline ${namespace}/products: Ready True (generation 1, observed 1)`);
    expect(result.stdout).toContain(
      `RelayScaled=False (DeploymentNotFound): relay Deployment ${namespace}/shop-relay not found`,
    );
    expect(result.stdout).toContain(
      "relay replicas: the operator owns shop-relay's replicas (scaling mode Operator, 1..4)",
    );
    expect(result.stdout).toContain(
      `offset reset replay-1 in progress: phase ScalingDown since ${startedAt} (`,
    );
    expect(result.stdout).toContain(`deadline ${deadline} (in `);
    expect(result.stdout).toContain('last error: group still has 1 member(s)');
    expect(result.stdout).toContain(
      `Deployment shop-consumer held at 0 by reset replay-1; restored to 3 replica(s) when the reset finishes, or fails at its deadline ${deadline}`,
    );
    expect(result.stdout).toContain(
      `! pipeline ${namespace}/products: RelayScaled=False (DeploymentNotFound)`,
    );
    expect(result.stdout).toContain(
      `remove spec.consumers[groupId=${group}].offsetReset from ProductPipeline ${namespace}/products`,
    );
    expect(result.stdout).not.toContain('no consumer is running');
  });

  it('refuses to guess between two pipelines naming the group, and takes the one --pipeline names', async () => {
    const ns = randomNamespace('cli-pipeline-two');
    await core.createNamespace({ body: { metadata: { name: ns } } });
    await createPipeline(ns, 'a');
    await createPipeline(ns, 'b');
    await playOperator(ns, 'b');
    const both = await runCli(['status', '--namespace', ns], env);
    expect(both.code).toBe(1);
    expect(both.stdout).toContain(
      `pipeline: unavailable (2 ProductPipelines in namespace ${ns} name group ${group} (a, b): choose one with --pipeline or SHOPSTREAM_PIPELINE)`,
    );
    expect(both.stdout).toMatch(/^outbox: 4 pending/m);
    expect(both.stderr).toContain('choose one with --pipeline');

    const chosen = await runCli(['status', '--namespace', ns, '--pipeline', 'b'], env);
    expect(chosen.code).toBe(0);
    expect(chosen.stdout).toContain(`pipeline ${ns}/b: Ready True`);
    const missing = await runCli(['status', '--json', '--namespace', ns, '--pipeline', 'c'], env);
    expect(missing.code).toBe(1);
    expect(parseJson<{ pipeline: unknown }>(missing).pipeline).toEqual({
      reachable: false,
      error: `ProductPipeline ${ns}/c not found`,
    });
  });

  it('is unchanged without a kubeconfig: no pipeline section, no error', async () => {
    const { KUBECONFIG: _k, SHOPSTREAM_NAMESPACE: _n, ...plain } = env;
    const json = await runCli(['status', '--json'], plain);
    expect(json.code).toBe(0);
    expect(Object.keys(parseJson<object>(json)).sort()).toEqual(['consumerGroup', 'outbox']);
    const text = await runCli(['status'], plain);
    expect(text.code).toBe(0);
    expect(text.stdout).not.toMatch(/^\s*pipeline/m);
    // Kafka alone sees an unknown group with no members, and says so as before.
    expect(text.stdout).toContain(`consumer group ${group} has no members: no consumer is running`);
  });

  it('names an API server it cannot reach in one line, shows the rest, and exits 1', async () => {
    const port = await freePort();
    const closed = join(work, 'closed-port.kubeconfig');
    const real = await readFile(kube.kubeconfigPath, 'utf8');
    const server = /server:\s*"?(https:\/\/[^"\s,}]+)/.exec(real)![1]!;
    await writeFile(closed, real.replace(server, `https://127.0.0.1:${port}`));
    for (const args of [['status'], ['status', '--kubeconfig', closed]]) {
      const result = await runCli(args, {
        ...env,
        KUBECONFIG: args.length > 1 ? kube.kubeconfigPath : closed,
      });
      expect(result.code).toBe(1);
      expect(result.stdout).toContain(
        `pipeline: unavailable (cannot reach Kubernetes API at https://127.0.0.1:${port}:`,
      );
      expect(result.stdout).toContain('ECONNREFUSED');
      expect(result.stdout).toMatch(/^outbox: 4 pending/m);
      expect(result.stdout).toMatch(new RegExp(`^consumer group ${group} on `, 'm'));
      expect(result.stderr).toContain(`cannot reach Kubernetes API at https://127.0.0.1:${port}`);
      expect(result.stderr).not.toMatch(/unexpected failure|\n\s+at /);
    }
  });

  it('says a user the API server forbids to read pipelines lacks get and list on them', async () => {
    // A ServiceAccount with no RoleBinding: authenticated, allowed nothing.
    await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: 'nobody' } } });
    // The context's namespace is the default when neither --namespace nor SHOPSTREAM_NAMESPACE is given.
    const file = await serviceAccountKubeconfig(
      kc,
      { namespace, name: 'nobody' },
      join(work, 'nobody.kubeconfig'),
    );
    const { SHOPSTREAM_NAMESPACE: _n, ...noNamespace } = env;
    const result = await runCli(['status'], { ...noNamespace, KUBECONFIG: file });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      `may not read productpipelines.shopstream.io in namespace ${namespace} (403`,
    );
    expect(result.stdout).toMatch(/^outbox: 4 pending/m);
  });

  it('exits 2 on a kubeconfig that does not exist or a namespace that cannot be one', async () => {
    const missing = await runCli(['status', '--kubeconfig', join(work, 'nope')], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`kubeconfig ${join(work, 'nope')} does not exist`);
    expect(missing.stdout).toBe('');
    const bad = await runCli(['diagnose', '--namespace', 'Not_A_Namespace'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('namespace "Not_A_Namespace" is not a Kubernetes namespace name');
  });
});

describe('shopstream diagnose with a kubeconfig', () => {
  const findingOf = (report: DiagnoseJson, id: string): Finding => {
    const f = report.findings.find((x) => x.id === id);
    if (!f) throw new Error(`no ${id} finding in ${JSON.stringify(report.findings, null, 2)}`);
    return f;
  };

  it('explains the empty group by the reset that holds it, and never advises kubectl scale on owned replicas', async () => {
    const result = await runCli(['diagnose', '--json'], env);
    // The relay is not running with 4 events PENDING: a problem.
    expect(result.code).toBe(1);
    const report = parseJson<DiagnoseJson>(result);
    const held = findingOf(report, 'held-by-reset');
    expect(held.severity).toBe('warning');
    expect(held.sentence).toContain(
      `Deployment shop-consumer is held at 0 by offset reset replay-1 since ${startedAt} (phase ScalingDown); it is restored to 3 replica(s) when the reset finishes or fails at its deadline ${deadline}`,
    );
    expect(held.fix).toContain(
      `remove spec.consumers[groupId=${group}].offsetReset from ProductPipeline ${namespace}/products`,
    );
    expect(report.findings.map((f) => f.id)).not.toContain('group-unknown');
    expect(report.findings.map((f) => f.id)).not.toContain('no-members');

    const relay = findingOf(report, 'relay-not-running');
    expect(relay.severity).toBe('problem');
    expect(relay.fix).toContain('do not kubectl scale shop-relay');
    expect(relay.fix).toContain('spec.relay.scaling.minReplicas (now 1');
    expect(findingOf(report, 'pipeline-condition-false').sentence).toContain(
      'RelayScaled=False (DeploymentNotFound)',
    );
    for (const f of report.findings) expect(`${f.sentence} ${f.fix ?? ''}`).not.toMatch(kubectlScale);

    const text = await runCli(['diagnose'], env);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(`Kubernetes ${kc.getCurrentCluster()!.server} namespace ${namespace}`);
    expect(text.stdout).toContain('is held at 0 by offset reset replay-1');
    expect(text.stdout).not.toMatch(kubectlScale);
  });

  it('gives its old advice without a kubeconfig', async () => {
    const { KUBECONFIG: _k, SHOPSTREAM_NAMESPACE: _n, ...plain } = env;
    const result = await runCli(['diagnose', '--json'], plain);
    expect(result.code).toBe(1);
    const report = parseJson<DiagnoseJson>(result);
    expect(report.findings.map((f) => f.id)).not.toContain('held-by-reset');
    expect(findingOf(report, 'group-unknown').fix).toContain(
      'kubectl scale deployment shopstream-consumer --replicas=1',
    );
    expect(findingOf(report, 'relay-not-running').fix).toContain(
      'kubectl scale deployment shopstream-relay --replicas=2',
    );
  });

  it('makes an unreachable API server a problem with the cause, and still judges Kafka and the outbox', async () => {
    const port = await freePort();
    const closed = join(work, 'diagnose-closed.kubeconfig');
    const real = await readFile(kube.kubeconfigPath, 'utf8');
    const server = /server:\s*"?(https:\/\/[^"\s,}]+)/.exec(real)![1]!;
    await writeFile(closed, real.replace(server, `https://127.0.0.1:${port}`));
    const result = await runCli(['diagnose', '--json'], { ...env, KUBECONFIG: closed });
    expect(result.code).toBe(1);
    const report = parseJson<DiagnoseJson>(result);
    expect(findingOf(report, 'pipeline-unreadable')).toMatchObject({ severity: 'problem' });
    expect(findingOf(report, 'pipeline-unreadable').sentence).toContain(
      `cannot reach Kubernetes API at https://127.0.0.1:${port}`,
    );
    expect(findingOf(report, 'relay-not-running').severity).toBe('problem');
  });
});
