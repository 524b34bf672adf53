import { Reason } from './conditions.js';
import type { Conditions } from './conditions.js';
import { ReconcileError } from './errors.js';
import type { ProductPipeline, RecordEvent, RelayStatus } from './pipeline-types.js';
import {
  ScaleDownStabilizer,
  blockedBacklogMessage,
  clampToShards,
  recommendReplicas,
  scalingPolicy,
} from './relay-scaling.js';
import type { Backlog, ScalingPolicy } from './relay-scaling.js';
import type { ReplicaPort } from './replica-port.js';

export interface RelayScalingDeps {
  /** The relay Deployment's replicas (the scale subresource). */
  deployments: ReplicaPort;
  /** The outbox database URL from the pipeline's databaseSecretRef. */
  databaseUrl(namespace: string, secret: { name: string; key: string }): Promise<string>;
  backlog(databaseUrl: string): Promise<Backlog>;
  keda: {
    apply(pipeline: ProductPipeline, policy: ScalingPolicy): Promise<void>;
    remove(pipeline: ProductPipeline): Promise<void>;
  };
  /** The operator's replica gauges of a pipeline; undefined removes them (not in Operator mode). */
  setReplicaMetrics(pipeline: ProductPipeline, replicas: { desired: number; max: number } | undefined): void;
  recordEvent: RecordEvent;
  now(): Date;
}

export const RelayReason = {
  Scaled: 'Scaled',
  BacklogBlocked: 'BacklogBlocked',
  ScalingDisabled: 'ScalingDisabled',
  KedaScaledObject: 'KedaScaledObject',
  DatabaseUnavailable: 'DatabaseUnavailable',
  DeploymentNotFound: 'DeploymentNotFound',
  InvalidSpec: 'InvalidSpec',
} as const;

export interface RelayOutcome {
  relay?: RelayStatus;
  requeueAfterMs?: number;
}

/**
 * Relay scaling from the outbox backlog (spec.relay.scaling). One owner of the replicas per mode:
 * Operator patches the Deployment's scale subresource, Keda hands the job to a ScaledObject,
 * Disabled leaves them to people. The backlog is reported in status.relay in every mode that can
 * read it. Scale-down stabilization is remembered in memory, per pipeline; a new leader starts
 * with the running replicas as its first recommendation.
 */
export class RelayScalingController {
  private readonly stabilizers = new Map<string, ScaleDownStabilizer>();

  constructor(private readonly deps: RelayScalingDeps) {}

  async reconcile(
    pipeline: ProductPipeline,
    previous: RelayStatus | undefined,
    conditions: Conditions,
  ): Promise<RelayOutcome> {
    const relay = pipeline.spec.relay;
    if (!relay) return {};
    const { deps } = this;
    const { namespace } = pipeline.metadata;
    const specPolicy = scalingPolicy(relay.scaling);
    const requeueAfterMs = specPolicy.pollIntervalSeconds * 1000;
    const status: RelayStatus = { ...previous };
    const key = pipeline.metadata.uid ?? `${namespace}/${pipeline.metadata.name}`;

    let backlog: Backlog | undefined;
    let backlogError: unknown;
    if (relay.databaseSecretRef) {
      try {
        backlog = await deps.backlog(await deps.databaseUrl(namespace, relay.databaseSecretRef));
        status.pendingEvents = backlog.pending;
        status.oldestPendingAgeSeconds = Math.round(backlog.oldestPendingAgeSeconds);
        status.blockedEvents = backlog.blocked;
        status.retryingEvents = backlog.retrying;
      } catch (err) {
        backlogError = err;
      }
    }
    // Unknown shard count (database unreadable or never set up): the spec's bounds, unclamped.
    const policy = clampToShards(specPolicy, backlog?.shardCount);

    // RBAC refusing the Secret is the operator's own problem, not the database's: said in every mode
    // (outside Operator mode the backlog only informs the status), fatal to Operator mode.
    const secretRefused =
      backlogError instanceof ReconcileError && backlogError.reason === Reason.Forbidden
        ? backlogError
        : undefined;
    const unread = secretRefused ? `; backlog not read: ${secretRefused.message}` : '';
    if (policy.mode !== 'Keda') await deps.keda.remove(pipeline);
    if (policy.mode !== 'Operator') {
      this.stabilizers.delete(key);
      deps.setReplicaMetrics(pipeline, undefined);
    }
    if (policy.mode === 'Keda') {
      if (!relay.deploymentRef || !relay.databaseSecretRef) {
        conditions.set(
          'RelayScaled',
          'False',
          RelayReason.InvalidSpec,
          'Keda mode needs relay.deploymentRef and relay.databaseSecretRef',
        );
        return { relay: status };
      }
      await deps.keda.apply(pipeline, policy);
      conditions.set(
        'RelayScaled',
        'True',
        RelayReason.KedaScaledObject,
        `replicas of ${relay.deploymentRef.name} are owned by the KEDA ScaledObject ${pipeline.metadata.name}-relay${unread}`,
      );
    }
    if (policy.mode === 'Disabled') {
      conditions.set(
        'RelayScaled',
        'True',
        RelayReason.ScalingDisabled,
        `relay replicas are not managed${unread}`,
      );
    }

    if (policy.mode !== 'Operator') return { relay: status, requeueAfterMs };

    if (!relay.deploymentRef || !relay.databaseSecretRef) {
      conditions.set(
        'RelayScaled',
        'False',
        RelayReason.InvalidSpec,
        'Operator mode needs relay.deploymentRef and relay.databaseSecretRef',
      );
      return { relay: status };
    }
    if (secretRefused) throw secretRefused;
    const current = await deps.deployments.replicas(namespace, relay.deploymentRef.name);
    if (current === undefined) {
      conditions.set(
        'RelayScaled',
        'False',
        RelayReason.DeploymentNotFound,
        `relay Deployment ${namespace}/${relay.deploymentRef.name} not found`,
      );
      return { relay: status, requeueAfterMs };
    }
    status.currentReplicas = current;
    if (!backlog) {
      // Without a backlog reading the safe choice is the status quo: never scale blind.
      conditions.set(
        'RelayScaled',
        'False',
        RelayReason.DatabaseUnavailable,
        `cannot read the outbox backlog (${backlogError instanceof Error ? backlogError.message : String(backlogError)}); keeping ${current} replica(s)`,
      );
      return { relay: status, requeueAfterMs };
    }

    let stabilizer = this.stabilizers.get(key);
    if (!stabilizer) {
      stabilizer = new ScaleDownStabilizer(current, deps.now());
      this.stabilizers.set(key, stabilizer);
    }
    const recommended = recommendReplicas(backlog, current, policy);
    const desired = stabilizer.stabilize(
      recommended,
      current,
      policy.scaleDownStabilizationSeconds,
      deps.now(),
    );
    status.desiredReplicas = desired;
    deps.setReplicaMetrics(pipeline, { desired, max: policy.maxReplicas });
    if (desired !== current) {
      await deps.deployments.scale(namespace, relay.deploymentRef.name, desired);
      status.currentReplicas = desired;
      status.lastScaleTime = deps.now().toISOString();
      await deps
        .recordEvent(
          pipeline,
          'Normal',
          'RelayScaled',
          `scaled ${relay.deploymentRef.name} from ${current} to ${desired} replica(s): ${backlog.pending} pending, oldest ${status.oldestPendingAgeSeconds}s`,
        )
        .catch(() => undefined);
    }
    const held =
      recommended < desired
        ? `; scale-down to ${recommended} held for the ${policy.scaleDownStabilizationSeconds}s window`
        : '';
    const clamped =
      policy.maxReplicas < specPolicy.maxReplicas ? `, max ${policy.maxReplicas}: the shard count` : '';
    const scaled = `${desired} replica(s) for ${backlog.pending} claimable (target ${policy.targetPendingPerReplica} per replica, oldest ${status.oldestPendingAgeSeconds}s${clamped})${held}`;
    const blocked = blockedBacklogMessage(backlog);
    if (blocked) conditions.set('RelayScaled', 'True', RelayReason.BacklogBlocked, `${scaled}; ${blocked}`);
    else conditions.set('RelayScaled', 'True', RelayReason.Scaled, scaled);
    return { relay: status, requeueAfterMs };
  }

  /** Forget a deleted pipeline. */
  forget(pipeline: ProductPipeline): void {
    this.stabilizers.delete(
      pipeline.metadata.uid ?? `${pipeline.metadata.namespace}/${pipeline.metadata.name}`,
    );
    this.deps.setReplicaMetrics(pipeline, undefined);
  }
}
