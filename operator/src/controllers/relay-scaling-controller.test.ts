import { Conditions } from './conditions.js';
import { forbidden } from './errors.js';
import { RelayScalingController } from './relay-scaling-controller.js';
import type { RelayScalingDeps } from './relay-scaling-controller.js';
import type { ProductPipeline, RelayScalingSpec } from './pipeline-types.js';
import type { Backlog, ScalingPolicy } from './relay-scaling.js';

const deadEvent = '0193a000-0000-7000-8000-00000000dead';
const product = '0193a000-0000-7000-8000-0000000000aa';

/** In-memory ports: a relay Deployment, an outbox reading, the gauges and the KEDA object. */
function world(backlog: Backlog, replicas = 1, overrides: Partial<RelayScalingDeps> = {}) {
  const state = {
    replicas,
    metrics: undefined as { desired: number; max: number } | undefined,
    keda: undefined as ScalingPolicy | undefined,
  };
  const deps: RelayScalingDeps = {
    deployments: {
      replicas: async () => state.replicas,
      scale: async (_ns, _name, n) => {
        state.replicas = n;
      },
    },
    databaseUrl: async () => 'postgres://outbox',
    backlog: async () => backlog,
    keda: {
      apply: async (_p, policy) => {
        state.keda = policy;
      },
      remove: async () => {
        state.keda = undefined;
      },
    },
    setReplicaMetrics: (_p, r) => {
      state.metrics = r;
    },
    recordEvent: async () => undefined,
    now: () => new Date('2026-12-02T18:00:00Z'),
    ...overrides,
  };
  return { state, controller: new RelayScalingController(deps) };
}

const pipeline = (scaling: RelayScalingSpec): ProductPipeline => ({
  apiVersion: 'shopstream.io/v1alpha1',
  kind: 'ProductPipeline',
  metadata: { name: 'shop', namespace: 'ns', generation: 1, uid: 'u1' },
  spec: {
    kafka: { bootstrapServers: 'k:9092' },
    topics: [{ name: 't', partitions: 1 }],
    relay: {
      deploymentRef: { name: 'relay' },
      databaseSecretRef: { name: 'db', key: 'url' },
      scaling: { minReplicas: 1, maxReplicas: 8, targetPendingPerReplica: 100, ...scaling },
    },
  },
});

const blockedBacklog: Backlog = {
  pending: 250,
  oldestPendingAgeSeconds: 2,
  blocked: 5000,
  retrying: 300,
  firstBlocked: { productId: product, deadEventId: deadEvent, products: 1 },
  shardCount: 64,
};

describe('RelayScalingController (DESIGN §9, one record refused by Kafka)', () => {
  it('scales for the claimable rows only and reports the blocked ones as RelayScaled=True/BacklogBlocked', async () => {
    const { state, controller } = world(blockedBacklog);
    const conditions = new Conditions(1);
    const outcome = await controller.reconcile(pipeline({}), undefined, conditions);
    expect(state.replicas).toBe(3); // ceil(250 / 100), not ceil(5550 / 100) clamped to 8
    expect(outcome.relay).toMatchObject({
      pendingEvents: 250,
      blockedEvents: 5000,
      retryingEvents: 300,
      desiredReplicas: 3,
    });
    const c = conditions.get('RelayScaled');
    expect(c).toMatchObject({ status: 'True', reason: 'BacklogBlocked' });
    expect(c?.message).toContain(`5000 row(s) held behind DEAD event ${deadEvent} of product ${product}`);
    expect(state.metrics).toEqual({ desired: 3, max: 8 });
  });

  it('says Scaled when nothing is blocked, even with rows in backoff', async () => {
    const { controller } = world({ ...blockedBacklog, blocked: 0, firstBlocked: undefined });
    const conditions = new Conditions(1);
    await controller.reconcile(pipeline({}), undefined, conditions);
    expect(conditions.get('RelayScaled')).toMatchObject({ status: 'True', reason: 'Scaled' });
  });

  it('clamps maxReplicas to the shard count: in the replicas, the metric and the condition', async () => {
    const { state, controller } = world({ ...blockedBacklog, pending: 100_000, shardCount: 4 });
    const conditions = new Conditions(1);
    await controller.reconcile(pipeline({}), undefined, conditions);
    expect(state.replicas).toBe(4);
    expect(state.metrics).toEqual({ desired: 4, max: 4 });
    expect(conditions.get('RelayScaled')?.message).toContain('max 4: the shard count');
  });

  it('hands KEDA the clamped bounds and drops the operator gauges in Keda mode', async () => {
    const { state, controller } = world({ ...blockedBacklog, shardCount: 4 });
    await controller.reconcile(pipeline({}), undefined, new Conditions(1));
    expect(state.metrics).toBeDefined();
    await controller.reconcile(pipeline({ mode: 'Keda' }), undefined, new Conditions(1));
    expect(state.keda).toMatchObject({ minReplicas: 1, maxReplicas: 4 });
    expect(state.metrics).toBeUndefined();
  });
});

describe('RelayScalingController without RBAC for the pipeline namespace', () => {
  const refusal = forbidden('403 Forbidden: the operator may not get secrets in namespace ns (db)');
  const refused = () => {
    const reads: string[] = [];
    const w = world(blockedBacklog, 1, {
      databaseUrl: async () => {
        throw refusal;
      },
      deployments: {
        replicas: async () => {
          reads.push('replicas');
          return 1;
        },
        scale: async () => undefined,
      },
    });
    return { ...w, reads };
  };

  it('Operator mode: fails with the Secret refusal itself (not DatabaseUnavailable), before reading the scale', async () => {
    const { controller, reads } = refused();
    await expect(controller.reconcile(pipeline({}), undefined, new Conditions(1))).rejects.toBe(refusal);
    expect(reads).toEqual([]);
  });

  it('Keda mode: KEDA still owns the replicas, and the condition says the backlog could not be read', async () => {
    const { controller, state } = refused();
    const conditions = new Conditions(1);
    await controller.reconcile(pipeline({ mode: 'Keda' }), undefined, conditions);
    expect(state.keda).toBeDefined();
    expect(conditions.get('RelayScaled')).toMatchObject({ status: 'True', reason: 'KedaScaledObject' });
    expect(conditions.get('RelayScaled')?.message).toContain(`backlog not read: ${refusal.message}`);
  });
});
