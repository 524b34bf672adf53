import type { ScaledObjectPort } from './consumer-hold.js';
import type { ResetCondition, GroupPort } from './offset-reset-controller.js';
import { reconcileOffsetReset, releaseUnlessOpen } from './offset-reset-controller.js';
import type { ConsumerStatus, ProductPipeline, RecordEvent } from './pipeline-types.js';
import type { ReplicaPort } from './replica-port.js';

export interface ConsumerGroupsPort extends GroupPort {
  describe(
    groupId: string,
    topics: string[],
  ): Promise<{ state: string; members: { clientId: string; clientHost: string }[]; lag: number }>;
  close(): Promise<void>;
}

export interface ConsumerDeps {
  groups(pipeline: ProductPipeline): ConsumerGroupsPort;
  deployments: ReplicaPort;
  scaledObjects: ScaledObjectPort;
  recordEvent: RecordEvent;
  now(): Date;
}

export interface ConsumersOutcome {
  consumers: ConsumerStatus[];
  /** The OffsetResetSucceeded condition across all groups (the worst one wins), if any group says something. */
  resetCondition?: ResetCondition;
  requeueAfterMs?: number;
  /** The first failure (Kafka or Kubernetes); the statuses above are still worth writing. */
  error?: unknown;
}

const severity = { False: 2, Unknown: 1, True: 0 } as const;

/**
 * status.consumers: each group's state and lag from the Kafka admin API (what
 * kafka-consumer-groups --describe shows), then its offset reset step. A consumer entry removed
 * from the spec gives back what a reset of it holds (found through its status) before its status
 * goes; if that fails, the status stays for the next attempt.
 */
export async function reconcileConsumers(
  pipeline: ProductPipeline,
  deps: ConsumerDeps,
): Promise<ConsumersOutcome> {
  const consumers = pipeline.spec.consumers ?? [];
  const previous = pipeline.status?.consumers ?? [];
  const out: ConsumersOutcome = { consumers: [] };
  for (const gone of previous.filter((p) => !consumers.some((c) => c.groupId === p.groupId))) {
    if (!gone.heldForReset) continue;
    try {
      await releaseUnlessOpen(pipeline.metadata.namespace, {}, gone, undefined, holdDeps(pipeline, deps));
    } catch (err) {
      out.error ??= err;
      out.consumers.push(gone);
    }
  }
  if (!consumers.length) return out;
  const groups = deps.groups(pipeline);
  try {
    for (const consumer of consumers) {
      const before = previous.find((c) => c.groupId === consumer.groupId) ?? {
        groupId: consumer.groupId,
        state: 'Unknown',
      };
      let observed: ConsumerStatus = { ...before, state: 'Unknown' };
      try {
        const seen = await groups.describe(consumer.groupId, consumer.topics);
        observed = { ...before, state: seen.state, lag: seen.lag, members: seen.members.length };
      } catch (err) {
        out.error ??= err;
      }
      // The reset step runs even when Kafka is away: restoring held-down replicas needs only Kubernetes.
      const step = await reconcileOffsetReset(pipeline.metadata.namespace, consumer, observed, {
        ...holdDeps(pipeline, deps),
        groups,
        now: deps.now,
      }).catch((err: unknown) => {
        out.error ??= err;
        return { status: observed, condition: undefined, requeueAfterMs: undefined };
      });
      out.consumers.push(step.status);
      if (
        step.condition &&
        (!out.resetCondition || severity[step.condition.status] > severity[out.resetCondition.status])
      ) {
        out.resetCondition = step.condition;
      }
      if (step.requeueAfterMs !== undefined)
        out.requeueAfterMs = Math.min(out.requeueAfterMs ?? Infinity, step.requeueAfterMs);
    }
  } finally {
    await groups.close();
  }
  return out;
}

/**
 * On deletion: gives back every consumer Deployment a reset holds, named by the spec or recorded in
 * the status (an entry removed just before the delete). Needs only Kubernetes.
 */
export async function releaseAllHeld(pipeline: ProductPipeline, deps: ConsumerDeps): Promise<void> {
  const specs = pipeline.spec.consumers ?? [];
  const statuses = pipeline.status?.consumers ?? [];
  const groupIds = new Set([...specs, ...statuses].map((c) => c.groupId));
  for (const groupId of groupIds) {
    const spec = specs.find((c) => c.groupId === groupId) ?? {};
    const status = statuses.find((c) => c.groupId === groupId) ?? { groupId, state: 'Unknown' };
    await releaseUnlessOpen(pipeline.metadata.namespace, spec, status, undefined, holdDeps(pipeline, deps));
  }
}

const holdDeps = (pipeline: ProductPipeline, deps: ConsumerDeps) => ({
  deployments: deps.deployments,
  scaledObjects: deps.scaledObjects,
  event: (type: 'Normal' | 'Warning', reason: string, message: string) =>
    deps.recordEvent(pipeline, type, reason, message).catch(() => undefined),
});
