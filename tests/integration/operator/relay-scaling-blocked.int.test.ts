import { CoreV1Api } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import pg from 'pg';
import { OutboxBacklogReader, PENDING_COUNT_SQL } from '@shopstream/operator';
import { OutboxStore } from '@shopstream/relay';
import { buildProductEvent, migrate, newId } from '@shopstream/shared';
import {
  createTestDatabase,
  infraEnv,
  insertEvents,
  installPipelineCrd,
  productSnapshot,
  randomNamespace,
  randomTopic,
  seedOutbox,
  startPrivateKube,
  waitFor,
} from '../../harness/index.js';
import type { PrivateKube, TestDatabase } from '../../harness/index.js';
import { condition, createDeployment, deploymentOf, pipelines, startOperator } from './operator-fixture.js';
import type { OperatorProcess } from './operator-fixture.js';

const SHARDS = 6;

/**
 * DESIGN §9, "one record refused by Kafka": the row goes DEAD and its product's later events wait,
 * while other products flow. Relay scaling must follow what flows: rows held behind a DEAD row, and
 * rows in backoff (or behind one), are no work more relays could do. Before, one DEAD product
 * ramped the relay to maxReplicas and kept it there. A real operator process reads a real outbox
 * and scales a relay Deployment on a real kube-apiserver (an API object: no pods run). A private
 * one: the ProductPipeline CRD is cluster-wide, and test files of other branches on the shared
 * server install their own version of it, whose status schema would prune fields asserted here.
 */
describe('relay scaling with a blocked backlog (DESIGN §9, one record refused by Kafka)', () => {
  let kube: PrivateKube;
  let kc: KubeConfig;
  let core: CoreV1Api;
  let pp: ReturnType<typeof pipelines>;
  const namespace = randomNamespace('blocked');
  const topic = randomTopic('product.events');
  const label = `${namespace}/shop`;
  const deadProduct = newId();
  const laterDeadProduct = newId();
  const backoffProduct = newId();
  let deadEvent: string;
  let db: TestDatabase;
  let sql: pg.Pool;
  let operator: OperatorProcess;
  const history: number[] = [];
  let watching = true;
  let watcher: Promise<void> | undefined;

  const replicas = async () => (await deploymentOf(kc, namespace, 'relay')).replicas;
  const relayStatus = async () => (await pp.get('shop')).status?.relay;
  const gauge = async (name: string) =>
    new RegExp(`^${name}\\{pipeline="${label}"\\} (\\d+)$`, 'm').exec(await operator.metrics())?.[1];
  const reconciles = async () =>
    Number(
      /^shopstream_operator_reconcile_total\{controller="pipeline",result="requeue"\} (\d+)$/m.exec(
        await operator.metrics(),
      )?.[1] ?? 0,
    );
  /** Lets the operator reconcile (and so read the outbox) `n` more times: no clock involved. */
  const reconciled = async (n: number) => {
    const start = await reconciles();
    await waitFor(async () => (await reconciles()) >= start + n, {
      description: `${n} more reconciles`,
    });
  };
  /** One product's events, `version` 1..n, in seq order. */
  const productEvents = (product: string, n: number) =>
    Array.from({ length: n }, (_, i) =>
      buildProductEvent(i === 0 ? 'product.created' : 'product.updated', productSnapshot(product, i + 1), {
        shardCount: 64,
        topic,
      }),
    );

  beforeAll(async () => {
    kube = await startPrivateKube();
    kc = kube.kubeConfig;
    core = kc.makeApiClient(CoreV1Api);
    pp = pipelines(kc, namespace);
    await installPipelineCrd(kc);
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    db = await createTestDatabase('blockedscaling');
    await migrate(db.url);
    sql = new pg.Pool({ connectionString: db.url, max: 2 });
    await sql.query(`insert into relay_config (id, shard_count) values (1, $1)`, [SHARDS]);

    // Written before the operator starts, so it never sees a half-built outbox.
    // A product whose first event went DEAD, with 600 later events behind it.
    const dead = productEvents(deadProduct, 601);
    await insertEvents(sql, dead);
    deadEvent = dead[0]!.id;
    // A product whose first event waits an hour for its next attempt, 299 behind it.
    const backoff = productEvents(backoffProduct, 300);
    await insertEvents(sql, backoff);
    // A product with 5 publishable events, then a DEAD one, then 5 held behind it.
    const laterDead = productEvents(laterDeadProduct, 11);
    await insertEvents(sql, laterDead);
    await sql.query(`update outbox_event set status = 'DEAD', attempts = 10 where id = any($1::uuid[])`, [
      [deadEvent, laterDead[5]!.id],
    ]);
    await sql.query(
      `update outbox_event set attempts = 3, next_attempt_at = now() + interval '1 hour' where id = $1`,
      [backoff[0]!.id],
    );
    // Other products flow: 19 × 10 claimable events, 195 with the 5 above.
    await seedOutbox(sql, { topic, products: 19, eventsPerProduct: 10 });

    await core.createNamespacedSecret({
      namespace,
      body: { metadata: { name: 'outbox-db' }, stringData: { url: db.url } },
    });
    await createDeployment(kc, namespace, 'relay', 1);
    watcher = (async () => {
      while (watching) {
        const r = await replicas().catch(() => undefined);
        if (r !== undefined && history.at(-1) !== r) history.push(r);
        await new Promise((res) => setTimeout(res, 100));
      }
    })();
    await pp.create('shop', {
      kafka: { bootstrapServers: infraEnv().kafkaBrokers, topicManagement: 'Direct' },
      topics: [{ name: topic, partitions: 1 }],
      relay: {
        deploymentRef: { name: 'relay' },
        databaseSecretRef: { name: 'outbox-db', key: 'url' },
        scaling: {
          mode: 'Operator',
          minReplicas: 1,
          maxReplicas: 8,
          targetPendingPerReplica: 100,
          maxOldestPendingAgeSeconds: 3600,
          scaleDownStabilizationSeconds: 600,
          pollIntervalSeconds: 1,
        },
      },
    });
    operator = await startOperator(namespace, 'op-blocked', kube.kubeconfigPath);
  });
  afterAll(async () => {
    watching = false;
    await watcher;
    operator?.child.kill('SIGKILL');
    await operator?.exited;
    await sql?.end();
    await db?.drop();
    await kube?.destroy();
  });

  it('one DEAD row + backlog behind it → replicas stay at what the claimable backlog needs; rows in backoff are not counted', async () => {
    const status = await waitFor(
      async () => {
        const s = await relayStatus();
        return s?.desiredReplicas !== undefined ? s : undefined;
      },
      { description: 'status.relay from the first scaling decision', timeoutMs: 60_000 },
    );
    expect(status).toMatchObject({
      pendingEvents: 195,
      blockedEvents: 605,
      retryingEvents: 300,
      desiredReplicas: 2,
    });
    await reconciled(3);
    expect(await replicas()).toBe(2); // ceil(195 / 100); all 1100 PENDING rows would ask for 11
    expect(history).toEqual([1, 2]);
    const c = condition(await pp.get('shop'), 'RelayScaled');
    expect(c).toMatchObject({ status: 'True', reason: 'BacklogBlocked' });
    expect(c?.message).toContain(
      `605 row(s) of 2 products held behind DEAD events, the oldest DEAD event ${deadEvent} of product ${deadProduct}`,
    );
    expect(c?.message).toContain(`npx shopstream outbox requeue|skip ${deadEvent}`);
    expect(await gauge('shopstream_operator_relay_desired_replicas')).toBe('2');
  });

  it('counts as claimable exactly what a relay owning every shard claims', async () => {
    await sql.query(
      `insert into relay_shard (shard, owner, epoch, lease_until)
       select distinct shard, 'claim-check', 1, now() + interval '1 hour' from outbox_event_unpublished`,
    );
    const { rows: shards } = await sql.query<{ shard: number }>(`select shard from relay_shard`);
    const claimed = await new OutboxStore(sql, 'claim-check').claim(
      new Map(shards.map((s) => [s.shard, '1'])),
      10_000,
    );
    const reader = new OutboxBacklogReader();
    try {
      const backlog = await reader.read(db.url);
      expect(backlog).toMatchObject({
        pending: claimed.length,
        blocked: 605,
        retrying: 300,
        shardCount: SHARDS,
      });
    } finally {
      await reader.close();
    }
    expect(claimed).toHaveLength(195);
    const held = new Set([deadProduct, backoffProduct]);
    expect(claimed.filter((e) => held.has(e.aggregateId))).toEqual([]);
    expect(claimed.filter((e) => e.aggregateId === laterDeadProduct)).toHaveLength(5);
    const { rows } = await sql.query<{ count: string }>(PENDING_COUNT_SQL);
    expect(Number(rows[0]!.count)).toBe(195); // what KEDA polls in Keda mode
    await sql.query(`delete from relay_shard where owner = 'claim-check'`);
  });

  it('scales for the rows a skip releases, never past the shard count, and exports that maximum', async () => {
    expect(await gauge('shopstream_operator_relay_max_replicas')).toBe(String(SHARDS));
    await sql.query(`update outbox_event set status = 'SKIPPED' where status = 'DEAD'`);
    // 800 claimable would be 8 replicas, maxReplicas 8; the outbox has 6 shards.
    await waitFor(async () => (await relayStatus())?.pendingEvents === 800, {
      description: 'the released rows in status.relay',
    });
    await reconciled(3);
    expect(await replicas()).toBe(SHARDS);
    expect(history).toEqual([1, 2, SHARDS]);
    expect(await relayStatus()).toMatchObject({
      blockedEvents: 0,
      retryingEvents: 300,
      desiredReplicas: SHARDS,
    });
    const c = condition(await pp.get('shop'), 'RelayScaled');
    expect(c).toMatchObject({ status: 'True', reason: 'Scaled' });
    expect(c?.message).toContain(`max ${SHARDS}: the shard count`);
    expect(await gauge('shopstream_operator_relay_max_replicas')).toBe(String(SHARDS));
  });
});
