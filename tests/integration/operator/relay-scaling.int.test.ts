import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import pg from 'pg';
import { BACKLOG_SQL, PENDING_COUNT_SQL } from '@shopstream/operator';
import { migrate } from '@shopstream/shared';
import {
  createTestDatabase,
  infraEnv,
  installFixtureCrd,
  installPipelineCrd,
  kubeConfig,
  randomNamespace,
  randomTopic,
  seedOutbox,
  waitFor,
} from '../../harness/index.js';
import type { TestDatabase } from '../../harness/index.js';
import { condition, createDeployment, deploymentOf, pipelines, startOperator } from './operator-fixture.js';
import type { OperatorProcess } from './operator-fixture.js';

const POLL_SECONDS = 2;
const WINDOW_SECONDS = 10;

/**
 * Relay scaling from the outbox backlog: a real operator process reads a real outbox database
 * through the pipeline's Secret and scales a relay Deployment (an API object: the test watches
 * its replicas, no pods run).
 */
describe('relay scaling by the operator', () => {
  const kc = kubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const namespace = randomNamespace('scaling');
  const elsewhere = randomNamespace('elsewhere');
  const topic = randomTopic('product.events');
  const pp = pipelines(kc, namespace);
  const label = `${namespace}/shop`;
  let db: TestDatabase;
  let sql: pg.Pool;
  let operator: OperatorProcess;
  /** Every replica count the relay Deployment had, with when it was first seen. */
  const history: { at: number; replicas: number }[] = [];
  let watching = true;
  let watcher: Promise<void> | undefined;

  const replicas = async () => (await deploymentOf(kc, namespace, 'relay')).replicas;
  const scaling = (overrides: object) => ({
    relay: {
      deploymentRef: { name: 'relay' },
      databaseSecretRef: { name: 'outbox-db', key: 'url' },
      scaling: {
        mode: 'Operator',
        minReplicas: 1,
        maxReplicas: 5,
        targetPendingPerReplica: 100,
        maxOldestPendingAgeSeconds: 3600,
        scaleDownStabilizationSeconds: WINDOW_SECONDS,
        pollIntervalSeconds: POLL_SECONDS,
        ...overrides,
      },
    },
  });
  const relayStatus = async () => (await pp.get('shop')).status?.relay;
  const desiredMetric = async () =>
    new RegExp(`^shopstream_operator_relay_desired_replicas\\{pipeline="${label}"\\} (\\d+)$`, 'm').exec(
      await operator.metrics(),
    )?.[1];
  const setSecret = (url: string) =>
    core.patchNamespacedSecret(
      { namespace, name: 'outbox-db', body: { stringData: { url } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  const scaledObject = (name: string, plural: string) =>
    custom.getNamespacedCustomObject({
      group: 'keda.sh',
      version: 'v1alpha1',
      namespace,
      plural,
      name,
    }) as Promise<{
      spec: Record<string, unknown>;
    }>;
  /** Lets `polls` poll intervals (and their reconciles) pass. */
  const pollsPassed = (polls = 2) => new Promise((r) => setTimeout(r, (POLL_SECONDS * polls + 1) * 1000));

  beforeAll(async () => {
    await installPipelineCrd(kc);
    await installFixtureCrd(kc, 'scaledobjects.keda.sh.yaml');
    await installFixtureCrd(kc, 'triggerauthentications.keda.sh.yaml');
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    db = await createTestDatabase('scaling');
    await migrate(db.url);
    sql = new pg.Pool({ connectionString: db.url, max: 2 });
    await core.createNamespacedSecret({
      namespace,
      body: { metadata: { name: 'outbox-db' }, stringData: { url: db.url } },
    });
    await createDeployment(kc, namespace, 'relay', 1);
    watcher = (async () => {
      while (watching) {
        const r = await replicas().catch(() => undefined);
        if (r !== undefined && history.at(-1)?.replicas !== r) history.push({ at: Date.now(), replicas: r });
        await new Promise((res) => setTimeout(res, 100));
      }
    })();
    await pp.create('shop', {
      kafka: { bootstrapServers: infraEnv().kafkaBrokers, topicManagement: 'Direct' },
      topics: [{ name: topic, partitions: 1 }],
      ...scaling({}),
    });
    // A pipeline outside WATCH_NAMESPACE, which this operator must never touch.
    await core.createNamespace({ body: { metadata: { name: elsewhere } } });
    await pipelines(kc, elsewhere).create('stranger', {
      kafka: { bootstrapServers: infraEnv().kafkaBrokers, topicManagement: 'Direct' },
      topics: [{ name: randomTopic('stranger'), partitions: 1 }],
    });
    operator = await startOperator(namespace, 'op-scaling');
  });
  afterAll(async () => {
    watching = false;
    await watcher;
    operator?.child.kill('SIGKILL');
    await operator?.exited;
    await sql?.end();
    await db?.drop();
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
    await core.deleteNamespace({ name: elsewhere }).catch(() => undefined);
  });

  it('scales up to ceil(pending / target) within one poll interval, and never above maxReplicas', async () => {
    await waitFor(
      async () =>
        (await relayStatus())?.pendingEvents === 0 &&
        condition(await pp.get('shop'), 'RelayScaled')?.status === 'True',
      { description: 'the operator to read the empty outbox', timeoutMs: 60_000 },
    );
    expect(await replicas()).toBe(1);
    await seedOutbox(sql, { topic, products: 35, eventsPerProduct: 10 }); // 350 pending
    const seeded = Date.now();
    await waitFor(async () => (await replicas()) === 4, {
      description: 'the relay to scale to ceil(350 / 100) = 4 within one poll interval',
      timeoutMs: POLL_SECONDS * 1000 + 1500,
      intervalMs: 50,
    });
    expect(Date.now() - seeded).toBeLessThanOrEqual(POLL_SECONDS * 1000 + 1500);
    await waitFor(async () => (await relayStatus())?.lastScaleTime, { description: 'status.relay' });
    expect(await relayStatus()).toMatchObject({ pendingEvents: 350, desiredReplicas: 4, currentReplicas: 4 });
    expect(await desiredMetric()).toBe('4');
    expect((await pp.events('shop')).map((e) => e.message)).toContainEqual(
      expect.stringMatching(/scaled relay from 1 to 4 replica\(s\): 350 pending/),
    );

    await seedOutbox(sql, { topic, products: 100, eventsPerProduct: 10 }); // 1350 pending → 14 wanted
    await waitFor(async () => (await replicas()) === 5, { description: 'the relay at maxReplicas' });
    await pollsPassed();
    expect(await replicas()).toBe(5);
    expect(await relayStatus()).toMatchObject({ pendingEvents: 1350, desiredReplicas: 5 });
    // WATCH_NAMESPACE is honoured: the pipeline in another namespace was never reconciled.
    const stranger = await pipelines(kc, elsewhere).get('stranger');
    expect(stranger.metadata.finalizers).toBeUndefined();
    expect(stranger.status).toBeUndefined();
  });

  it('scales down only after the stabilization window once the backlog is published', async () => {
    await sql.query(
      `update outbox_event set status = 'PUBLISHED', published_at = now() where status = 'PENDING'`,
    );
    const published = Date.now();
    await waitFor(async () => (await relayStatus())?.pendingEvents === 0, {
      description: 'the operator to see the empty backlog',
      timeoutMs: 10_000,
    });
    // The backlog is gone but the window still remembers the recommendation of 5.
    expect(await replicas()).toBe(5);
    expect(condition(await pp.get('shop'), 'RelayScaled')?.message).toMatch(
      /scale-down to 1 held for the 10s window/,
    );
    await waitFor(async () => (await replicas()) === 1, {
      description: 'the relay to scale down after the window',
      timeoutMs: (WINDOW_SECONDS + 3 * POLL_SECONDS) * 1000,
    });
    // The watcher polls on its own clock: let it record the change too.
    const down = await waitFor(() => history.find((h) => h.replicas === 1 && h.at > published), {
      description: 'the watcher to record the scale-down',
    });
    // The last recommendation of 5 was made at most one poll before the publish.
    expect(down.at - published).toBeGreaterThanOrEqual((WINDOW_SECONDS - POLL_SECONDS) * 1000);
    expect(history.every((h) => h.replicas >= 1 && h.replicas <= 5)).toBe(true);
    expect(history.map((h) => h.replicas)).toEqual([1, 4, 5, 1]);
  });

  it('Keda mode emits a valid ScaledObject with the same query and target, and leaves the replicas alone', async () => {
    await pp.patchSpec('shop', scaling({ mode: 'Keda' }));
    await seedOutbox(sql, { topic, products: 50, eventsPerProduct: 10 }); // 500 pending
    const so = await waitFor(() => scaledObject('shop-relay', 'scaledobjects'), {
      description: 'the ScaledObject',
      timeoutMs: 20_000,
    });
    expect(so.spec).toMatchObject({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'relay' },
      minReplicaCount: 1,
      maxReplicaCount: 5,
      pollingInterval: POLL_SECONDS,
      advanced: {
        horizontalPodAutoscalerConfig: {
          behavior: { scaleDown: { stabilizationWindowSeconds: WINDOW_SECONDS } },
        },
      },
      triggers: [
        {
          type: 'postgresql',
          metadata: { query: PENDING_COUNT_SQL, targetQueryValue: '100' },
          authenticationRef: { name: 'shop-relay' },
        },
      ],
    });
    const auth = await scaledObject('shop-relay', 'triggerauthentications');
    expect(auth.spec).toEqual({
      secretTargetRef: [{ parameter: 'connection', name: 'outbox-db', key: 'url' }],
    });
    // The query KEDA will poll runs against the real outbox and returns the backlog as one integer.
    const { rows } = await sql.query(PENDING_COUNT_SQL);
    expect(Number(rows[0].count)).toBe(500);

    await waitFor(async () => (await relayStatus())?.pendingEvents === 500, {
      description: 'the backlog in status',
    });
    await pollsPassed();
    expect(await replicas()).toBe(1); // 500 pending would be 5 replicas in Operator mode
    expect(condition(await pp.get('shop'), 'RelayScaled')).toMatchObject({
      status: 'True',
      reason: 'KedaScaledObject',
    });
    expect(await desiredMetric()).toBeUndefined();
  });

  it('Disabled neither scales nor keeps the ScaledObject', async () => {
    await pp.patchSpec('shop', scaling({ mode: 'Disabled' }));
    await waitFor(
      async () =>
        await scaledObject('shop-relay', 'scaledobjects')
          .then(() => false)
          .catch((e: { code?: number }) => e.code === 404),
      { description: 'the ScaledObject to be removed', timeoutMs: 20_000 },
    );
    await pollsPassed();
    expect(await replicas()).toBe(1);
    expect(condition(await pp.get('shop'), 'RelayScaled')).toMatchObject({
      status: 'True',
      reason: 'ScalingDisabled',
    });
  });

  it('keeps the current replicas and says why when the database is unreachable; scales again when it is back', async () => {
    await apps.patchNamespacedDeploymentScale(
      { namespace, name: 'relay', body: { spec: { replicas: 3 } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await setSecret('postgres://postgres@127.0.0.1:1/nowhere');
    await pp.patchSpec('shop', scaling({ mode: 'Operator' }));
    const down = await waitFor(
      async () => {
        const c = condition(await pp.get('shop'), 'RelayScaled');
        return c?.reason === 'DatabaseUnavailable' ? c : undefined;
      },
      { description: 'RelayScaled=False/DatabaseUnavailable', timeoutMs: 30_000 },
    );
    expect(down.status).toBe('False');
    expect(down.message).toMatch(/cannot read the outbox backlog .*keeping 3 replica\(s\)/);
    expect(condition(await pp.get('shop'), 'Ready')).toMatchObject({
      status: 'False',
      reason: 'DatabaseUnavailable',
    });
    await pollsPassed();
    expect(await replicas()).toBe(3);

    await setSecret(db.url);
    await waitFor(async () => (await replicas()) === 5, {
      description: 'ceil(500 / 100) = 5 replicas once the database answers',
      timeoutMs: 20_000,
    });
    // The status is written after the scale, at the end of the same reconcile.
    await waitFor(async () => condition(await pp.get('shop'), 'RelayScaled')?.status === 'True', {
      description: 'RelayScaled=True after the scale',
      timeoutMs: 10_000,
    });
  });

  it('reads the backlog from the unpublished partition only, never the published outbox', async () => {
    await seedOutbox(sql, { topic, products: 2000, eventsPerProduct: 10 });
    await sql.query(
      `update outbox_event set status = 'PUBLISHED', published_at = now() where status = 'PENDING'`,
    );
    await seedOutbox(sql, { topic, products: 5, eventsPerProduct: 10 });
    await sql.query('analyze outbox_event_unpublished');
    const plan = (await sql.query(`explain ${BACKLOG_SQL}`)).rows
      .map((r: { 'QUERY PLAN': string }) => r['QUERY PLAN'])
      .join('\n');
    // The unpublished partition may be scanned whole (it holds the backlog, DEAD and SKIPPED rows:
    // finding a product's DEAD or not-due row needs them); the published history never is.
    expect(plan).toMatch(/outbox_event_unpublished/);
    expect(plan).not.toMatch(/outbox_event_p\d|outbox_event_published/);
  });
});
