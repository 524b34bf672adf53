import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubernetesObjectApi,
  loadAllYaml,
} from '@kubernetes/client-node';
import type { V1Deployment } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { RESET_REPLICAS_ANNOTATION, RESET_REQUEST_ANNOTATION } from '@shopstream/operator';
import type { ProductPipeline } from '@shopstream/operator';
import { migrate } from '@shopstream/shared';
import {
  createTestDatabase,
  fixtureProducer,
  freePort,
  infraEnv,
  installFixtureCrd,
  installPipelineCrd,
  randomGroup,
  randomNamespace,
  randomTopic,
  repoRoot,
  seedOutbox,
  serviceAccountKubeconfig,
  startPrivateKube,
  startService,
  waitFor,
} from '../../harness/index.js';
import type { PrivateKube, ServiceProcess, TestDatabase } from '../../harness/index.js';
import { condition, createDeployment, deploymentOf, pipelines } from '../operator/operator-fixture.js';
import {
  auditedRequests,
  compare,
  describeRequest,
  grantsFor,
  rbacObjects,
  writeAuditPolicy,
} from './operator-rbac-audit.js';
import type { Grant } from './operator-rbac-audit.js';

const run = promisify(execFile);
const POLL_SECONDS = 2;

/**
 * The operator chart's RBAC is exactly what the operator uses. The chart's ServiceAccount, Roles,
 * ClusterRoles and bindings are applied to a private kube-apiserver that writes an audit log; the
 * real operator process runs with a token of that ServiceAccount through every API call it has
 * (Direct and Strimzi topics, relay scaling by the operator and by KEDA, an offset reset DryRun and
 * Execute, deletion through the finalizer, Events, leader election). Then, from the audit log: no
 * request was refused, every request is covered by the chart's rules, every permission the rules
 * grant was used — once cluster-wide (ClusterRole) and once with watchNamespace (Roles).
 */
/** LEADER_ELECTION_LEASE_NAME as the rendered Deployment sets it. */
const leaseNameOf = (manifests: string): string => {
  const deployment = (loadAllYaml(manifests) as ({ kind?: string } | null)[]).find(
    (o) => o?.kind === 'Deployment',
  ) as V1Deployment | undefined;
  const env = deployment?.spec?.template.spec?.containers[0]?.env ?? [];
  const name = env.find((e) => e.name === 'LEADER_ELECTION_LEASE_NAME')?.value;
  if (!name) throw new Error('the chart Deployment sets no LEADER_ELECTION_LEASE_NAME');
  return name;
};

describe('operator chart RBAC against what the operator does', () => {
  const env = infraEnv();
  let kube: PrivateKube;
  let work: string;
  let auditLog: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'operator-rbac-'));
    const audit = await writeAuditPolicy(work);
    auditLog = audit.logPath;
    kube = await startPrivateKube({ apiserverArgs: audit.args });
    await installPipelineCrd(kube.kubeConfig);
    for (const crd of [
      'kafkatopics.kafka.strimzi.io.yaml',
      'scaledobjects.keda.sh.yaml',
      'triggerauthentications.keda.sh.yaml',
    ])
      await installFixtureCrd(kube.kubeConfig, crd);
  });
  afterAll(async () => {
    await kube?.destroy();
    if (work) await rm(work, { recursive: true, force: true });
  });

  // One release per mode: their ClusterRoles and bindings share the cluster.
  describe.each([
    { mode: 'every namespace (ClusterRole)', watch: false, release: 'everywhere' },
    { mode: 'watchNamespace (Roles)', watch: true, release: 'watching' },
  ])('$mode', ({ watch, release }) => {
    /** The chart's ServiceAccount: the release's full name (release + chart name). */
    const serviceAccount = `${release}-operator`;
    const operatorNs = randomNamespace('shopstream-system');
    const appNs = randomNamespace('shop');
    const kafkaNs = randomNamespace('kafka');
    const username = `system:serviceaccount:${operatorNs}:${serviceAccount}`;
    const resetTopic = randomTopic('rbac.reset');
    const directTopic = randomTopic('rbac.direct');
    const group = randomGroup('rbac');
    const kafka = new Kafka({
      clientId: 'rbac-test',
      brokers: [env.kafkaBrokers],
      logLevel: logLevel.NOTHING,
    });
    let admin: KubeConfig;
    let grants: Grant[];
    /** The Lease the chart's Deployment names, which its Role must let the operator get and update. */
    let leaseName: string;
    let db: TestDatabase;
    let sql: pg.Pool;
    let operator: ServiceProcess;
    let operatorExit: number | string | undefined;
    const pp = () => pipelines(admin, appNs);

    const kafkaTopics = (namespace: string) =>
      admin
        .makeApiClient(CustomObjectsApi)
        .listNamespacedCustomObject({
          group: 'kafka.strimzi.io',
          version: 'v1',
          namespace,
          plural: 'kafkatopics',
        })
        .then((l) => (l as { items: { metadata: { name: string } }[] }).items.map((t) => t.metadata.name));
    const kedaObject = (plural: string) =>
      admin
        .makeApiClient(CustomObjectsApi)
        .getNamespacedCustomObject({
          group: 'keda.sh',
          version: 'v1alpha1',
          namespace: appNs,
          plural,
          name: 'direct-relay',
        })
        .then(() => true)
        .catch((e: { code?: number }) => (e.code === 404 ? false : Promise.reject(e)));

    beforeAll(async () => {
      admin = kube.kubeConfig;
      const core = admin.makeApiClient(CoreV1Api);
      for (const name of [operatorNs, appNs, kafkaNs])
        await core.createNamespace({ body: { metadata: { name } } });

      // The chart, rendered as `helm install` would, and its RBAC objects applied as they are.
      const valuesFile = join(work, `values-${operatorNs}.json`);
      await writeFile(
        valuesFile,
        JSON.stringify(watch ? { watchNamespace: appNs, rbac: { kafkaTopicNamespaces: [kafkaNs] } } : {}),
      );
      const { stdout } = await run(env.helm, [
        'template',
        release,
        join(repoRoot, 'charts', 'operator'),
        '--namespace',
        operatorNs,
        '--values',
        valuesFile,
      ]);
      const objects = rbacObjects(stdout);
      leaseName = leaseNameOf(stdout);
      expect(objects.filter((o) => o.kind === 'ServiceAccount').map((o) => o.metadata?.name)).toEqual([
        serviceAccount,
      ]);
      const objectsApi = KubernetesObjectApi.makeApiClient(admin);
      for (const o of objects) await objectsApi.create(o);
      grants = grantsFor(objects, { namespace: operatorNs, name: serviceAccount });

      // What a pod of the chart's Deployment would hold: a token of its ServiceAccount, nothing else.
      const kubeconfig = await serviceAccountKubeconfig(
        admin,
        { namespace: operatorNs, name: serviceAccount },
        join(work, `kubeconfig-${operatorNs}`),
      );

      // Relay scaling reads a real outbox through the Secret; the Deployments are API objects only.
      db = await createTestDatabase('rbac');
      await migrate(db.url);
      sql = new pg.Pool({ connectionString: db.url, max: 2 });
      await seedOutbox(sql, { topic: directTopic, products: 25, eventsPerProduct: 10 }); // 250 pending
      await core.createNamespacedSecret({
        namespace: appNs,
        body: { metadata: { name: 'outbox-db' }, stringData: { url: db.url } },
      });
      await createDeployment(admin, appNs, 'relay', 1);
      await createDeployment(admin, appNs, 'consumer', 2);

      // A consumer group with committed offsets and no members (Empty), on a topic with records.
      const kafkaAdmin = kafka.admin();
      await kafkaAdmin.connect();
      await kafkaAdmin.createTopics({
        topics: [{ topic: resetTopic, numPartitions: 2 }],
        waitForLeaders: true,
      });
      const producer = fixtureProducer(kafka);
      await producer.connect();
      await producer.send({
        topic: resetTopic,
        messages: [0, 1, 2, 3, 4, 5].map((i) => ({ partition: i % 2, value: `m${i}` })),
      });
      await producer.disconnect();
      const ends = await kafkaAdmin.fetchTopicOffsets(resetTopic);
      await kafkaAdmin.setOffsets({
        groupId: group,
        topic: resetTopic,
        partitions: ends.map((e) => ({ partition: e.partition, offset: e.high })),
      });
      await kafkaAdmin.disconnect();

      operator = startService('operator/src/main.ts', {
        KUBECONFIG: kubeconfig,
        OPERATOR_NAMESPACE: operatorNs,
        ...(watch ? { WATCH_NAMESPACE: appNs } : {}),
        POD_NAME: `operator-${operatorNs}`,
        LEADER_ELECTION_LEASE_NAME: leaseName,
        LEADER_ELECTION_LEASE_MS: '4000',
        LEADER_ELECTION_RENEW_DEADLINE_MS: '3000',
        LEADER_ELECTION_RETRY_MS: '500',
        METRICS_PORT: String(await freePort()),
        METRICS_HOST: '127.0.0.1',
      });
      void operator.exited.then((code) => (operatorExit = code));
    });
    afterAll(async () => {
      if (operator && operatorExit === undefined) {
        operator.child.kill('SIGKILL');
        await operator.exited;
      }
      await sql?.end();
      await db?.drop();
      const kafkaAdmin = kafka.admin();
      await kafkaAdmin.connect();
      await kafkaAdmin.deleteTopics({ topics: [resetTopic] }).catch(() => undefined);
      await kafkaAdmin.disconnect();
    });

    const relay = (mode: string) => ({
      deploymentRef: { name: 'relay' },
      databaseSecretRef: { name: 'outbox-db', key: 'url' },
      scaling: {
        mode,
        minReplicas: 1,
        maxReplicas: 5,
        targetPendingPerReplica: 100,
        maxOldestPendingAgeSeconds: 3600,
        scaleDownStabilizationSeconds: 60,
        pollIntervalSeconds: POLL_SECONDS,
      },
    });
    const consumers = (mode: string) => [
      {
        groupId: group,
        deploymentRef: { name: 'consumer' },
        topics: [resetTopic],
        offsetReset: { requestId: 'replay-1', to: { earliest: true }, mode },
      },
    ];
    const lastReset = async () =>
      (await pp().get('direct')).status?.consumers?.find((c) => c.groupId === group)?.lastReset;

    it('Direct topics, relay scaling by the operator, and an offset reset DryRun then Execute', async () => {
      await pp().create('direct', {
        kafka: { bootstrapServers: env.kafkaBrokers, topicManagement: 'Direct' },
        topics: [
          { name: directTopic, partitions: 1, deletionPolicy: 'Delete' },
          { name: resetTopic, partitions: 2 },
        ],
        relay: relay('Operator'),
        consumers: consumers('DryRun'),
      });
      await waitFor(async () => (await deploymentOf(admin, appNs, 'relay')).replicas === 3, {
        description: 'the relay scaled to ceil(250 / 100) = 3 through the scale subresource',
        timeoutMs: 60_000,
      });
      const planned = await waitFor(lastReset, { description: 'the DryRun plan', timeoutMs: 30_000 });
      expect(planned).toMatchObject({ requestId: 'replay-1', mode: 'DryRun' });
      expect(planned.partitions.map((p) => p.newOffset)).toEqual(['0', '0']);
      const p = await waitFor(
        async () => {
          const got = await pp().get('direct');
          return condition(got, 'Ready')?.status === 'True' ? got : undefined;
        },
        { description: 'Ready=True' },
      );
      expect(condition(p, 'TopicsReady')?.status).toBe('True');
      expect(p.metadata.finalizers).toContain('shopstream.io/finalizer');
      const kafkaAdmin = kafka.admin();
      await kafkaAdmin.connect();
      expect(await kafkaAdmin.listTopics()).toContain(directTopic);

      await pp().patchSpec('direct', { consumers: consumers('Execute') });
      await waitFor(async () => (await lastReset())?.mode === 'Execute', {
        description: 'the Execute reset recorded',
        timeoutMs: 60_000,
      });
      // The consumer Deployment was held at 0 during the reset and is given back its replicas.
      await waitFor(
        async () => {
          const d = await deploymentOf(admin, appNs, 'consumer');
          return (
            d.replicas === 2 &&
            !(RESET_REQUEST_ANNOTATION in d.annotations) &&
            !(RESET_REPLICAS_ANNOTATION in d.annotations)
          );
        },
        { description: 'the consumer Deployment restored to 2 replicas', timeoutMs: 30_000 },
      );
      const [committed] = await kafkaAdmin.fetchOffsets({ groupId: group, topics: [resetTopic] });
      expect(committed!.partitions.map((q) => q.offset).sort()).toEqual(['0', '0']);
      await kafkaAdmin.disconnect();
    });

    it('Keda mode applies a ScaledObject and a TriggerAuthentication; leaving it deletes both', async () => {
      await pp().patchSpec('direct', { relay: relay('Keda') });
      await waitFor(
        async () => (await kedaObject('scaledobjects')) && (await kedaObject('triggerauthentications')),
        {
          description: 'the KEDA objects',
        },
      );
      await pp().patchSpec('direct', { relay: relay('Disabled') });
      await waitFor(
        async () => !(await kedaObject('scaledobjects')) && !(await kedaObject('triggerauthentications')),
        { description: 'the KEDA objects deleted' },
      );
      await waitFor(
        async () => condition(await pp().get('direct'), 'RelayScaled')?.reason === 'ScalingDisabled',
        {
          description: 'RelayScaled=True/ScalingDisabled',
        },
      );
    });

    it('Strimzi mode applies KafkaTopics in the pipeline namespace and in the Kafka cluster namespace', async () => {
      const strimzi = (clusterRef: object, topic: string) => ({
        kafka: { bootstrapServers: env.kafkaBrokers, topicManagement: 'Strimzi', clusterRef },
        topics: [{ name: topic, partitions: 1, deletionPolicy: 'Delete' }],
      });
      await pp().create('strimzi-local', strimzi({ name: 'shop-kafka' }, 'local.events'));
      await pp().create(
        'strimzi-remote',
        strimzi({ name: 'shop-kafka', namespace: kafkaNs }, 'remote.events'),
      );
      await waitFor(async () => (await kafkaTopics(appNs)).includes('local.events'), {
        description: 'the KafkaTopic next to its pipeline',
      });
      await waitFor(async () => (await kafkaTopics(kafkaNs)).includes('remote.events'), {
        description: 'the KafkaTopic in the Kafka namespace',
      });
      // No Strimzi operator here: the topics stay not Ready, and the pipeline says so.
      await waitFor(
        async () => condition(await pp().get('strimzi-remote'), 'TopicsReady')?.status === 'False',
        { description: 'TopicsReady=False while Strimzi has not reconciled the topic' },
      );
    });

    it('deleting the pipelines runs the finalizer: Delete-policy topics go, the objects go', async () => {
      for (const name of ['direct', 'strimzi-local', 'strimzi-remote'])
        await admin.makeApiClient(CustomObjectsApi).deleteNamespacedCustomObject({
          group: 'shopstream.io',
          version: 'v1alpha1',
          namespace: appNs,
          plural: 'productpipelines',
          name,
        });
      await waitFor(
        async () =>
          (
            (await admin.makeApiClient(CustomObjectsApi).listNamespacedCustomObject({
              group: 'shopstream.io',
              version: 'v1alpha1',
              namespace: appNs,
              plural: 'productpipelines',
            })) as { items: ProductPipeline[] }
          ).items.length === 0,
        { description: 'every pipeline finalized and gone', timeoutMs: 30_000 },
      );
      expect(await kafkaTopics(appNs)).toEqual([]);
      expect(await kafkaTopics(kafkaNs)).toEqual([]);
      const kafkaAdmin = kafka.admin();
      await kafkaAdmin.connect();
      await waitFor(async () => !(await kafkaAdmin.listTopics()).includes(directTopic), {
        description: 'the Direct topic with deletionPolicy Delete deleted',
      });
      expect(await kafkaAdmin.listTopics()).toContain(resetTopic); // Retain
      await kafkaAdmin.disconnect();
    });

    it('recorded Events, and on SIGTERM released the Lease; nothing was ever forbidden', async () => {
      const events = (await admin.makeApiClient(CoreV1Api).listNamespacedEvent({ namespace: appNs })).items;
      expect(events.filter((e) => e.reportingComponent === 'shopstream-operator').length).toBeGreaterThan(0);
      operator.child.kill('SIGTERM');
      expect(await operator.exited).toBe(0);
      const lease = await admin
        .makeApiClient(CoordinationV1Api)
        .readNamespacedLease({ namespace: operatorNs, name: leaseName });
      expect(lease.spec?.holderIdentity).toBeUndefined();
      expect(operator.output()).toMatch(/started leading/);
      expect(operator.output()).not.toMatch(/forbidden|\b403\b/i);
    });

    it('the audit log: no request refused, every request covered by the chart, every permission used', async () => {
      // An event is logged as its request completes, which may trail the response a little.
      await new Promise((r) => setTimeout(r, 1000));
      const requests = await auditedRequests(auditLog, username);
      expect(requests.length).toBeGreaterThan(0);
      expect(requests.filter((r) => r.code === 403 || r.decision === 'forbid').map(describeRequest)).toEqual(
        [],
      );
      const { uncovered, unused } = compare(grants, requests);
      expect({ uncovered, unused }).toEqual({ uncovered: [], unused: [] });
      // Where each rule applies: cluster-wide only without watchNamespace.
      const scopes = [...new Set(grants.filter((g) => !g.nonResourceURLs).map((g) => g.scope))].sort();
      expect(scopes).toEqual(watch ? [appNs, kafkaNs, operatorNs].sort() : ['*', operatorNs].sort());
      // The comparison can fail both ways: a rule taken away leaves requests uncovered, one added is unused.
      const scale = (g: Grant) => g.resources?.includes('deployments/scale');
      expect(
        compare(
          grants.filter((g) => !scale(g)),
          requests,
        ).uncovered,
      ).toContainEqual(expect.stringMatching(/^patch apps\/deployments\/scale relay in /));
      const extra: Grant = {
        scope: appNs,
        source: 'Role/extra',
        apiGroups: [''],
        resources: ['secrets'],
        verbs: ['list'],
      };
      expect(compare([...grants, extra], requests).unused).toEqual([
        `list core/secrets in ${appNs} (Role/extra)`,
      ]);
    });
  });
});
