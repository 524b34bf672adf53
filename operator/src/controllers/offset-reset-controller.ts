import type {
  ConsumerSpec,
  ConsumerStatus,
  PartitionReset,
  ResetHistoryEntry,
  ResetTarget,
} from './pipeline-types.js';

/** On the consumer Deployment while a reset holds it at 0 replicas: which request, and what to restore. */
export const RESET_REQUEST_ANNOTATION = 'shopstream.io/offset-reset-request';
export const RESET_REPLICAS_ANNOTATION = 'shopstream.io/offset-reset-replicas';
export const DEFAULT_RESET_TIMEOUT_SECONDS = 300;
const HISTORY_LIMIT = 20;
/** How often an Execute in progress looks at the group again. */
export const RESET_POLL_MS = 1000;

type DeploymentView = { replicas: number; annotations: Record<string, string> };

export interface ConsumerDeploymentPort {
  get(namespace: string, name: string): Promise<DeploymentView | undefined>;
  scale(namespace: string, name: string, replicas: number): Promise<void>;
  annotate(namespace: string, name: string, annotations: Record<string, string | null>): Promise<void>;
}

export interface GroupPort {
  describe(
    groupId: string,
    topics: string[],
  ): Promise<{ state: string; members: { clientId: string; clientHost: string }[] }>;
  plan(groupId: string, topics: string[], target: ResetTarget, now?: Date): Promise<PartitionReset[]>;
  commit(groupId: string, plan: PartitionReset[]): Promise<void>;
}

export interface OffsetResetDeps {
  deployments: ConsumerDeploymentPort;
  groups: GroupPort;
  event(type: 'Normal' | 'Warning', reason: string, message: string): Promise<void>;
  now(): Date;
}

export interface ResetCondition {
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
}

export interface ResetOutcome {
  status: ConsumerStatus;
  /** What OffsetResetSucceeded should say about this consumer, when there is something to say. */
  condition?: ResetCondition;
  requeueAfterMs?: number;
}

export const ResetReason = {
  DryRunPlanned: 'DryRunPlanned',
  OffsetsReset: 'OffsetsReset',
  InProgress: 'InProgress',
  GroupNotEmpty: 'GroupNotEmpty',
  DeploymentNotFound: 'DeploymentNotFound',
  InvalidTarget: 'InvalidTarget',
} as const;

/** Whether `requestId` already ran in `mode` (an Execute also covers a later DryRun of the same id). */
export function alreadyHandled(
  history: ResetHistoryEntry[],
  requestId: string,
  mode: 'DryRun' | 'Execute',
): boolean {
  return history.some((h) => h.requestId === requestId && (mode === 'DryRun' || h.mode === 'Execute'));
}

const describePlan = (plan: PartitionReset[]): string =>
  plan.map((p) => `${p.topic}[${p.partition}] ${p.oldOffset ?? '-'}→${p.newOffset}`).join(', ') ||
  'no partitions';

/**
 * One step of a consumer group's offset reset (spec.consumers[].offsetReset), run once per new
 * requestId. DryRun writes the plan into the status. Execute is a procedure across reconciles,
 * whose state is durable so that any leader can continue it:
 *   1. annotate the consumer Deployment with the request and its replicas, scale it to 0;
 *   2. wait for the group to be Empty (or give up after timeoutSeconds);
 *   3. fix the plan (concrete offsets) in the status, and only then
 *   4. write the offsets; record lastReset and the history;
 *   5. restore the replicas from the annotation — in a later reconcile, once the status that says
 *      the request is finished is stored, so a crash can never write the offsets twice under
 *      running consumers.
 * A Deployment held for a request that is no longer an open Execute (finished, failed, changed or
 * removed from the spec) is always restored: the consumer is never left at 0 replicas.
 */
export async function reconcileOffsetReset(
  namespace: string,
  consumer: ConsumerSpec,
  previous: ConsumerStatus,
  deps: OffsetResetDeps,
): Promise<ResetOutcome> {
  const reset = consumer.offsetReset;
  const mode = reset?.mode ?? 'DryRun';
  const history = previous.resetHistory ?? [];
  const status: ConsumerStatus = { ...previous };
  const now = deps.now();
  const openExecute =
    reset && mode === 'Execute' && !alreadyHandled(history, reset.requestId, 'Execute')
      ? reset.requestId
      : undefined;

  // 5 (and every abandoned procedure): restore what a finished or abandoned request holds down.
  const deploymentName = consumer.deploymentRef?.name;
  const { deployment, released } = await releaseHeldDeployment(namespace, consumer, openExecute, deps);
  const heldFor = released ? undefined : deployment?.annotations[RESET_REQUEST_ANNOTATION];
  if (status.resetInProgress && status.resetInProgress.requestId !== openExecute)
    status.resetInProgress = null;
  if (!reset) return { status };

  const record = (outcome: 'Succeeded' | 'Failed'): void => {
    status.resetHistory = [
      { requestId: reset.requestId, mode, outcome, at: now.toISOString() },
      ...history,
    ].slice(0, HISTORY_LIMIT);
  };

  if (mode === 'DryRun') {
    if (alreadyHandled(history, reset.requestId, 'DryRun')) return { status };
    const plan = await planOrRefuse(consumer, reset.to, deps, now);
    if ('refused' in plan) {
      record('Failed');
      return { status, condition: plan.refused };
    }
    status.lastReset = {
      requestId: reset.requestId,
      mode,
      completedAt: now.toISOString(),
      partitions: plan.partitions,
    };
    record('Succeeded');
    await deps.event(
      'Normal',
      'OffsetResetPlanned',
      `dry run ${reset.requestId} for ${consumer.groupId}: ${describePlan(plan.partitions)}`,
    );
    return {
      status,
      condition: {
        status: 'True',
        reason: ResetReason.DryRunPlanned,
        message: `dry run ${reset.requestId} for group ${consumer.groupId}: ${plan.partitions.length} partition(s) planned, nothing changed`,
      },
    };
  }
  if (!openExecute) return { status };

  // 1. Hold the consumer Deployment at 0 (annotation first: it is what a new leader restores from).
  let progress = status.resetInProgress ?? {
    requestId: reset.requestId,
    phase: 'ScalingDown' as const,
    startedAt: now.toISOString(),
  };
  if (deploymentName) {
    if (!deployment) {
      record('Failed');
      status.resetInProgress = null;
      return {
        status,
        condition: {
          status: 'False',
          reason: ResetReason.DeploymentNotFound,
          message: `reset ${reset.requestId}: consumer Deployment ${namespace}/${deploymentName} not found`,
        },
      };
    }
    if (heldFor !== reset.requestId) {
      await deps.deployments.annotate(namespace, deploymentName, {
        [RESET_REQUEST_ANNOTATION]: reset.requestId,
        [RESET_REPLICAS_ANNOTATION]: String(deployment.replicas),
      });
      await deps.event(
        'Normal',
        'ScalingDownConsumers',
        `reset ${reset.requestId}: scaling ${deploymentName} from ${deployment.replicas} to 0`,
      );
    }
    if (heldFor !== reset.requestId || deployment.replicas !== 0)
      await deps.deployments.scale(namespace, deploymentName, 0);
  }

  // 2. Offsets of a group are only written while it has no members.
  const group = await deps.groups.describe(consumer.groupId, consumer.topics);
  const empty = group.state === 'Empty' || group.state === 'Dead';
  if (!empty) {
    // Someone scaled the consumers back up after the plan was fixed: wait again.
    if (progress.phase === 'WritingOffsets') progress = { ...progress, phase: 'ScalingDown' };
    const waitedMs = now.getTime() - Date.parse(progress.startedAt);
    const timeoutMs = (reset.timeoutSeconds ?? DEFAULT_RESET_TIMEOUT_SECONDS) * 1000;
    const members = group.members.map((m) => `${m.clientId}@${m.clientHost}`).join(', ');
    if (waitedMs >= timeoutMs) {
      record('Failed');
      status.resetInProgress = null;
      const message = `reset ${reset.requestId}: group ${consumer.groupId} is still ${group.state} with ${group.members.length} member(s) (${members}) after ${Math.round(waitedMs / 1000)}s; offsets unchanged, replicas restored`;
      await deps.event('Warning', ResetReason.GroupNotEmpty, message);
      return {
        status,
        condition: { status: 'False', reason: ResetReason.GroupNotEmpty, message },
        requeueAfterMs: 0,
      };
    }
    status.resetInProgress = progress;
    return {
      status,
      condition: {
        status: 'Unknown',
        reason: ResetReason.InProgress,
        message: `reset ${reset.requestId}: waiting for group ${consumer.groupId} to be Empty (${group.state}, ${group.members.length} member(s))`,
      },
      requeueAfterMs: RESET_POLL_MS,
    };
  }

  // 3. Fix the plan before writing anything: a shiftBy planned twice would shift twice.
  if (progress.phase === 'ScalingDown' || !progress.partitions) {
    const plan = await planOrRefuse(consumer, reset.to, deps, now);
    if ('refused' in plan) {
      record('Failed');
      status.resetInProgress = null;
      return { status, condition: plan.refused, requeueAfterMs: 0 };
    }
    status.resetInProgress = { ...progress, phase: 'WritingOffsets', partitions: plan.partitions };
    await deps.event(
      'Normal',
      'GroupEmpty',
      `reset ${reset.requestId}: group ${consumer.groupId} is Empty; plan ${describePlan(plan.partitions)}`,
    );
    return {
      status,
      condition: {
        status: 'Unknown',
        reason: ResetReason.InProgress,
        message: `reset ${reset.requestId}: writing ${plan.partitions.length} offset(s)`,
      },
      requeueAfterMs: 0,
    };
  }

  // 4. Write the fixed plan (idempotent: concrete offsets) and record the result.
  await deps.groups.commit(consumer.groupId, progress.partitions);
  status.lastReset = {
    requestId: reset.requestId,
    mode,
    completedAt: now.toISOString(),
    partitions: progress.partitions,
  };
  status.resetInProgress = null;
  record('Succeeded');
  await deps.event(
    'Normal',
    'OffsetsWritten',
    `reset ${reset.requestId} for ${consumer.groupId}: ${describePlan(progress.partitions)}`,
  );
  return {
    status,
    condition: {
      status: 'True',
      reason: ResetReason.OffsetsReset,
      message: `reset ${reset.requestId}: ${progress.partitions.length} offset(s) of group ${consumer.groupId} written`,
    },
    // The replicas come back in the next reconcile, after this status is stored.
    requeueAfterMs: 0,
  };
}

/**
 * Restores the consumer Deployment when a reset holds it at 0 for any request other than
 * `openExecute` (the one still running, if any): from the replicas recorded in its annotation.
 * Needs only Kubernetes, so it also runs on deletion and while Kafka is away.
 */
export async function releaseHeldDeployment(
  namespace: string,
  consumer: ConsumerSpec,
  openExecute: string | undefined,
  deps: Pick<OffsetResetDeps, 'deployments' | 'event'>,
): Promise<{ deployment?: DeploymentView; released: boolean }> {
  const name = consumer.deploymentRef?.name;
  const deployment = name ? await deps.deployments.get(namespace, name) : undefined;
  const heldFor = deployment?.annotations[RESET_REQUEST_ANNOTATION];
  if (!name || !deployment || heldFor === undefined || heldFor === openExecute)
    return { deployment, released: false };
  const replicas = Number(deployment.annotations[RESET_REPLICAS_ANNOTATION] ?? '1');
  await deps.deployments.scale(namespace, name, replicas);
  await deps.deployments.annotate(namespace, name, {
    [RESET_REQUEST_ANNOTATION]: null,
    [RESET_REPLICAS_ANNOTATION]: null,
  });
  await deps.event(
    'Normal',
    'ReplicasRestored',
    `${name} restored to ${replicas} replica(s) after reset ${heldFor}`,
  );
  return { deployment: { ...deployment, replicas }, released: true };
}

async function planOrRefuse(
  consumer: ConsumerSpec,
  target: ResetTarget,
  deps: OffsetResetDeps,
  now: Date,
): Promise<{ partitions: PartitionReset[] } | { refused: ResetCondition }> {
  try {
    return { partitions: await deps.groups.plan(consumer.groupId, consumer.topics, target, now) };
  } catch (err) {
    if (err instanceof RangeError) {
      return { refused: { status: 'False', reason: ResetReason.InvalidTarget, message: err.message } };
    }
    throw err;
  }
}
