import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  loadAllYaml,
} from '@kubernetes/client-node';
import type { KubernetesObject, V1Deployment } from '@kubernetes/client-node';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { WORKLOAD_NAMESPACES_VALUE, desiredKedaObjects, scalingPolicy } from '@shopstream/operator';
import type { ProductPipeline, RelayScalingSpec } from '@shopstream/operator';
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
  ownerReferenceChecks,
  rbacObjects,
  writeAuditPolicy,
} from './operator-rbac-audit.js';
import type { BlockingOwnerReference, Grant, RbacObject } from './operator-rbac-audit.js';

const run = promisify(execFile);
const POLL_SECONDS = 2;
const OWNER_REFERENCES_PLUGIN = '--enable-admission-plugins=OwnerReferencesPermissionEnforcement';
/**
 * What the operator creates with a blocking ownerReference to its pipeline (keda-scaled-objects.ts;
 * the finalizers test below checks the objects carry it): the admission plugin's checks to add.
 */
const KEDA_OWNED: BlockingOwnerReference[] = ['scaledobjects', 'triggerauthentications'].map((resource) => ({
  group: 'keda.sh',
  resource,
  owner: { group: 'shopstream.io', resource: 'productpipelines' },
}));
const isFinalizersRule = (rule: { resources?: string[] }) =>
  Boolean(rule.resources?.includes('productpipelines/finalizers'));

/**
 * The operator chart's RBAC is exactly what the operator uses. The chart's ServiceAccount, Roles,
 * ClusterRoles and bindings are applied to a private kube-apiserver that writes an audit log and
 * runs the OwnerReferencesPermissionEnforcement admission plugin (as OpenShift does); the real
 * operator process runs with a token of that ServiceAccount through every API call it has (Direct
 * and Strimzi topics, relay scaling by the operator and by KEDA, an offset reset DryRun and
 * Execute, deletion through the finalizer, Events, leader election). Then, from the audit log: no
 * request was refused but the ones the test provokes, every request is covered by the chart's
 * rules, every permission the rules grant was used — by a request, or (productpipelines/finalizers)
 * by the admission plugin's check, proven needed on its own — once cluster-wide (ClusterRole, with
 * Secrets and Deployment scales in rbac.workloadNamespaces only) and once with watchNamespace (Roles).
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
    kube = await startPrivateKube({ apiserverArgs: [...audit.args, OWNER_REFERENCES_PLUGIN] });
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

  it('no ClusterRole the chart renders grants Secrets or Deployments, in either mode; a Role in the release namespace does', async () => {
    const workloadRule = (r: { apiGroups?: string[]; resources?: string[] }) =>
      Boolean(
        r.apiGroups?.some((g) => ['', 'apps', '*'].includes(g)) &&
        r.resources?.some((x) => x === '*' || x === 'secrets' || x.startsWith('deployments')),
      );
    for (const set of [[], ['--set', 'watchNamespace=shop']]) {
      const { stdout } = await run(env.helm, [
        'template',
        'defaults',
        join(repoRoot, 'charts', 'operator'),
        '--namespace',
        'shopstream-system',
        ...set,
      ]);
      const roles = rbacObjects(stdout).filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role');
      const clusterWide = roles.filter((o) => o.kind === 'ClusterRole');
      expect(clusterWide.length).toBeGreaterThan(0);
      expect(clusterWide.filter((o) => o.rules?.some(workloadRule)).map((o) => o.metadata?.name)).toEqual([]);
      // Not merely absent: granted per namespace (the release's, or watchNamespace).
      expect(
        roles
          .filter((o) => o.kind === 'Role' && o.rules?.some(workloadRule))
          .map((o) => o.metadata?.namespace),
      ).toEqual([set.length ? 'shop' : 'shopstream-system']);
    }
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
    /** Watched (every-namespace mode), but not in rbac.workloadNamespaces: no Secrets, no scales. */
    const elsewhereNs = randomNamespace('elsewhere');
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
    /** The chart's RBAC objects as rendered and applied. */
    let rendered: RbacObject[];
    let grants: Grant[];
    /** Set by the finalizers test: without that rule the operator's KEDA objects are refused. */
    let finalizersRuleNeeded = false;
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
      for (const name of [operatorNs, appNs, kafkaNs, elsewhereNs])
        await core.createNamespace({ body: { metadata: { name } } });

      // The chart, rendered as `helm install` would, and its RBAC objects applied as they are.
      const valuesFile = join(work, `values-${operatorNs}.json`);
      await writeFile(
        valuesFile,
        JSON.stringify(
          watch
            ? { watchNamespace: appNs, rbac: { kafkaTopicNamespaces: [kafkaNs] } }
            : { rbac: { workloadNamespaces: [appNs] } },
        ),
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
      rendered = rbacObjects(stdout);
      leaseName = leaseNameOf(stdout);
      expect(rendered.filter((o) => o.kind === 'ServiceAccount').map((o) => o.metadata?.name)).toEqual([
        serviceAccount,
      ]);
      const objectsApi = KubernetesObjectApi.makeApiClient(admin);
      for (const o of rendered) await objectsApi.create(o);
      grants = grantsFor(rendered, { namespace: operatorNs, name: serviceAccount });

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
      // The same workloads next to a pipeline the chart grants nothing of them for.
      await core.createNamespacedSecret({
        namespace: elsewhereNs,
        body: { metadata: { name: 'outbox-db' }, stringData: { url: db.url } },
      });
      await createDeployment(admin, elsewhereNs, 'relay', 1);
      await createDeployment(admin, elsewhereNs, 'consumer', 2);

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

    const relay = (mode: RelayScalingSpec['mode']) => ({
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
      // The consumer Deployment was held at 0 during the reset and is given back its replicas; the
      // hold was recorded in the status only (the Deployment object is never read or written).
      await waitFor(
        async () => {
          const held = (await pp().get('direct')).status?.consumers?.find((c) => c.groupId === group);
          return (await deploymentOf(admin, appNs, 'consumer')).replicas === 2 && !held?.heldForReset;
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

    it('productpipelines/finalizers, which no request uses: without it OwnerReferencesPermissionEnforcement refuses the KEDA objects', async () => {
      const pipeline = await pp().get('direct');
      // The objects the operator applies in Keda mode (under other names), each with what the plugin
      // checks: an ownerReference to the pipeline with blockOwnerDeletion.
      const objects = desiredKedaObjects(pipeline, scalingPolicy(relay('Keda').scaling)).map(
        (o): KubernetesObject => ({ ...o, metadata: { ...o.metadata, name: `proof-${o.metadata?.name}` } }),
      );
      for (const o of objects)
        expect(o.metadata?.ownerReferences).toEqual([
          expect.objectContaining({
            kind: 'ProductPipeline',
            uid: pipeline.metadata.uid,
            blockOwnerDeletion: true,
          }),
        ]);

      // Another ServiceAccount with the chart's rules as rendered, minus that one rule.
      const proof = 'rbac-proof';
      await admin
        .makeApiClient(CoreV1Api)
        .createNamespacedServiceAccount({ namespace: operatorNs, body: { metadata: { name: proof } } });
      const objectsApi = KubernetesObjectApi.makeApiClient(admin);
      const removed = rendered.flatMap((o) => (o.rules ?? []).filter(isFinalizersRule));
      expect(removed).toHaveLength(1);
      for (const o of rendered) {
        const name = `${o.metadata?.name}-${proof}`;
        const metadata = { name, ...(o.metadata?.namespace ? { namespace: o.metadata.namespace } : {}) };
        if (o.kind === 'Role' || o.kind === 'ClusterRole')
          await objectsApi.create({ ...o, metadata, rules: o.rules?.filter((r) => !isFinalizersRule(r)) });
        if (o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding')
          await objectsApi.create({
            ...o,
            metadata,
            roleRef: { ...o.roleRef!, name: `${o.roleRef!.name}-${proof}` },
            subjects: [{ kind: 'ServiceAccount', name: proof, namespace: operatorNs }],
          });
      }
      const proofKc = new KubeConfig();
      proofKc.loadFromFile(
        await serviceAccountKubeconfig(
          admin,
          { namespace: operatorNs, name: proof },
          join(work, `kubeconfig-${proof}-${operatorNs}`),
        ),
      );
      const apply = (o: KubernetesObject) =>
        KubernetesObjectApi.makeApiClient(proofKc).patch(
          o,
          undefined,
          undefined,
          proof,
          true,
          PatchStrategy.ServerSideApply,
        );
      const refusal = await waitFor(
        () =>
          apply(objects[0]!).then(
            () => Promise.reject(new Error('applied without productpipelines/finalizers')),
            (err: { code?: number; body?: unknown }) =>
              // Until the proof's roles reach the authorizer the refusal is RBAC's own, not the plugin's.
              err.code === 403 && /blockOwnerDeletion/.test(String(err.body)) ? String(err.body) : undefined,
          ),
        { description: 'the plugin to refuse the apply' },
      );
      expect(refusal).toMatch(/cannot set blockOwnerDeletion .* can't set finalizers on/);

      // The one rule added back: the same applies are accepted.
      await objectsApi.create({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: `${proof}-finalizers-${operatorNs}` },
        rules: removed,
      } as RbacObject);
      await objectsApi.create({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: `${proof}-finalizers-${operatorNs}` },
        roleRef: {
          apiGroup: 'rbac.authorization.k8s.io',
          kind: 'ClusterRole',
          name: `${proof}-finalizers-${operatorNs}`,
        },
        subjects: [{ kind: 'ServiceAccount', name: proof, namespace: operatorNs }],
      } as RbacObject);
      for (const o of objects)
        await waitFor(
          () =>
            apply(o).then(
              () => true,
              () => undefined,
            ),
          {
            description: `${o.kind} ${o.metadata?.name} applied with the rule`,
          },
        );
      for (const o of objects) await objectsApi.delete(o);
      finalizersRuleNeeded = true;
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

    /** The pipeline both modes create outside the namespaces the chart grants workloads in. */
    const elsewhereSpec = () => ({
      kafka: { bootstrapServers: env.kafkaBrokers, topicManagement: 'Direct' },
      topics: [{ name: resetTopic, partitions: 2 }],
      relay: relay('Operator'),
    });

    // With watchNamespace the operator does not see a pipeline outside it, so nothing is refused.
    if (watch)
      it('a pipeline outside watchNamespace: never looked at, no request made in its namespace, deletable at once', async () => {
        const elsewhere = pipelines(admin, elsewhereNs);
        const auditedBefore = (await auditedRequests(auditLog, username)).length;
        await elsewhere.create('elsewhere', elsewhereSpec());
        // One created after it inside the watched namespace, reconciled: the operator has had its
        // chance at both.
        await pp().create('inside-probe', elsewhereSpec());
        await waitFor(async () => (await pp().get('inside-probe')).status !== undefined, {
          description: 'the pipeline inside the watched namespace reconciled',
        });
        const p = await elsewhere.get('elsewhere');
        expect(p.status).toBeUndefined();
        expect(p.metadata.finalizers ?? []).toEqual([]);
        const touched = (await auditedRequests(auditLog, username))
          .slice(auditedBefore)
          .filter((r) => r.namespace === elsewhereNs)
          .map(describeRequest);
        expect(touched).toEqual([]);
        await elsewhere.delete('elsewhere');
        expect(await elsewhere.exists('elsewhere')).toBe(false);
        await pp().delete('inside-probe');
        await waitFor(async () => !(await pp().exists('inside-probe')), {
          description: 'the probe pipeline finalized and gone',
          timeoutMs: 30_000,
        });
      });

    // Every-namespace mode: the operator sees it, and is refused what the chart does not grant there.
    if (!watch)
      it(`a pipeline outside ${WORKLOAD_NAMESPACES_VALUE}: Forbidden in its conditions and Events, naming the namespace and the value; looked at again at its own pace; deletable`, async () => {
        const elsewhere = pipelines(admin, elsewhereNs);
        const auditedBefore = (await auditedRequests(auditLog, username)).length;
        await elsewhere.create('elsewhere', {
          ...elsewhereSpec(),
          consumers: [
            {
              groupId: randomGroup('elsewhere'),
              deploymentRef: { name: 'consumer' },
              topics: [resetTopic],
              offsetReset: { requestId: 'elsewhere-1', to: { earliest: true }, mode: 'Execute' },
            },
          ],
        });
        const refused = await waitFor(
          async () => {
            const p = await elsewhere.get('elsewhere');
            return condition(p, 'RelayScaled')?.reason === 'Forbidden' &&
              condition(p, 'OffsetResetSucceeded')?.status === 'False'
              ? p
              : undefined;
          },
          { description: 'RelayScaled and OffsetResetSucceeded refused', timeoutMs: 30_000 },
        );
        const named = (resource: string, name: string) =>
          new RegExp(
            `^(reset elsewhere-1: )?403 Forbidden: the operator may not get ${resource} in namespace ${elsewhereNs} \\(${name}\\).* add ${elsewhereNs} to ${WORKLOAD_NAMESPACES_VALUE.replace('.', '\\.')}(; offsets unchanged)?$`,
          );
        expect(condition(refused, 'RelayScaled')?.message).toMatch(named('secrets', 'outbox-db'));
        expect(condition(refused, 'Ready')).toMatchObject({ status: 'False', reason: 'Forbidden' });
        // The reset fails at once (nothing was scaled), not after its deadline.
        expect(condition(refused, 'OffsetResetSucceeded')).toMatchObject({ reason: 'Forbidden' });
        expect(condition(refused, 'OffsetResetSucceeded')?.message).toMatch(
          named('deployments/scale', 'consumer'),
        );
        expect(refused.status?.consumers?.[0]?.resetHistory?.[0]).toMatchObject({
          requestId: 'elsewhere-1',
          outcome: 'Failed',
          reason: 'Forbidden',
        });
        const warnings = (await elsewhere.events('elsewhere')).filter((e) => e.type === 'Warning');
        expect(warnings.map((e) => e.reason)).toContain('Forbidden');
        expect(warnings.map((e) => e.message).join('\n')).toContain(
          `add ${elsewhereNs} to ${WORKLOAD_NAMESPACES_VALUE}`,
        );

        // Not a retry storm: within a few seconds more (the queue's backoff would have retried a
        // thrown refusal about ten times by then), each refused read was made about once.
        await new Promise((r) => setTimeout(r, 5000));
        const refusals = (await auditedRequests(auditLog, username))
          .slice(auditedBefore)
          .filter((r) => r.code === 403)
          .map(describeRequest);
        expect(refusals.filter((r) => r.startsWith('get core/secrets')).length).toBeLessThanOrEqual(2);
        expect(refusals.filter((r) => r.startsWith('get apps/deployments/scale'))).toEqual([
          `get apps/deployments/scale consumer in ${elsewhereNs}`,
        ]);
        expect(operatorExit).toBeUndefined();
        expect(await deploymentOf(admin, elsewhereNs, 'relay')).toMatchObject({ replicas: 1 });
        expect(await deploymentOf(admin, elsewhereNs, 'consumer')).toMatchObject({ replicas: 2 });

        // Its finalizer needs none of those grants (nothing was held).
        await elsewhere.delete('elsewhere');
        await waitFor(async () => !(await elsewhere.exists('elsewhere')), {
          description: 'the refused pipeline finalized and gone',
          timeoutMs: 30_000,
        });
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

    it('recorded Events, and on SIGTERM released the Lease; no refusal in its log', async () => {
      const events = (await admin.makeApiClient(CoreV1Api).listNamespacedEvent({ namespace: appNs })).items;
      expect(events.filter((e) => e.reportingComponent === 'shopstream-operator').length).toBeGreaterThan(0);
      operator.child.kill('SIGTERM');
      expect(await operator.exited).toBe(0);
      const lease = await admin
        .makeApiClient(CoordinationV1Api)
        .readNamespacedLease({ namespace: operatorNs, name: leaseName });
      expect(lease.spec?.holderIdentity).toBeUndefined();
      expect(operator.output()).toMatch(/started leading/);
      // The provoked refusals (every-namespace mode) are in the pipeline's status, not retried as errors.
      expect(operator.output()).not.toMatch(/forbidden|\b403\b/i);
    });

    it('the audit log: nothing refused but what the test provoked, every request covered by the chart, every permission used', async () => {
      // An event is logged as its request completes, which may trail the response a little.
      await new Promise((r) => setTimeout(r, 1000));
      const requests = await auditedRequests(auditLog, username);
      expect(requests.length).toBeGreaterThan(0);
      // Refused: only what the test provoked outside rbac.workloadNamespaces.
      const provoked = watch
        ? []
        : [
            `get apps/deployments/scale consumer in ${elsewhereNs}`,
            `get core/secrets outbox-db in ${elsewhereNs}`,
          ];
      const refused = requests.filter((r) => r.code === 403 || r.decision === 'forbid').map(describeRequest);
      expect([...new Set(refused)].sort()).toEqual(provoked);
      // Replicas through the scale subresource only: the Deployment objects are never read or written.
      expect(requests.filter((r) => r.group === 'apps' && r.resource === 'deployments')).toEqual([]);

      // What the admission plugin authorized for the KEDA objects the operator created: the only
      // use of productpipelines/finalizers, and counted only because the test above proved it needed.
      const admission = ownerReferenceChecks(requests, KEDA_OWNED);
      expect(admission.length).toBeGreaterThan(0);
      expect(finalizersRuleNeeded).toBe(true);
      expect(compare(grants, requests).unused).toEqual([
        expect.stringMatching(/^update shopstream\.io\/productpipelines\/finalizers in /),
      ]);
      const { uncovered, unused } = compare(grants, [...requests, ...admission]);
      expect({ uncovered, unused }).toEqual({ uncovered: provoked, unused: [] });
      // Where each rule applies: cluster-wide only without watchNamespace, and never Secrets or scales.
      const scopes = [...new Set(grants.filter((g) => !g.nonResourceURLs).map((g) => g.scope))].sort();
      expect(scopes).toEqual(watch ? [appNs, kafkaNs, operatorNs].sort() : ['*', appNs, operatorNs].sort());
      const workload = (g: Grant) => g.resources?.some((r) => r === 'secrets' || r.startsWith('deployments'));
      expect([...new Set(grants.filter(workload).map((g) => g.scope))]).toEqual([appNs]);
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
      expect(compare([...grants, extra], [...requests, ...admission]).unused).toEqual([
        `list core/secrets in ${appNs} (Role/extra)`,
      ]);
    });
  });
});
