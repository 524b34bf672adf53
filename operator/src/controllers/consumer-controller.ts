import type { ResetCondition, ConsumerDeploymentPort, GroupPort } from './offset-reset-controller.js';
import { reconcileOffsetReset } from './offset-reset-controller.js';
import type { ConsumerSpec, ConsumerStatus, ProductPipeline, RecordEvent } from './pipeline-types.js';

export interface ConsumerGroupsPort extends GroupPort {
  describe(
    groupId: string,
    topics: string[],
  ): Promise<{ state: string; members: { clientId: string; clientHost: string }[]; lag: number }>;
  close(): Promise<void>;
}

export interface ConsumerDeps {
  groups(pipeline: ProductPipeline): ConsumerGroupsPort;
  deployments: ConsumerDeploymentPort;
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
 * kafka-consumer-groups --describe shows), then its offset reset step. With `spec` overridden to
 * have no resets, it only restores Deployments that resets hold down (used on deletion).
 */
export async function reconcileConsumers(
  pipeline: ProductPipeline,
  deps: ConsumerDeps,
  consumers: ConsumerSpec[] = pipeline.spec.consumers ?? [],
): Promise<ConsumersOutcome> {
  const previous = pipeline.status?.consumers ?? [];
  const groups = deps.groups(pipeline);
  const out: ConsumersOutcome = { consumers: [] };
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
        deployments: deps.deployments,
        groups,
        now: deps.now,
        event: (type, reason, message) =>
          deps.recordEvent(pipeline, type, reason, message).catch(() => undefined),
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
