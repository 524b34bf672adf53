import { holdConsumer, holdRecord, releaseConsumer } from './consumer-hold.js';
import type { HoldDeps } from './consumer-hold.js';
import { OffsetCommitError, ReconcileError, ResetRefusedError } from './errors.js';
import type {
  ConsumerSpec,
  ConsumerStatus,
  OffsetResetSpec,
  PartitionReset,
  ResetHistoryEntry,
  ResetInProgress,
  ResetTarget,
} from './pipeline-types.js';

export const DEFAULT_RESET_TIMEOUT_SECONDS = 300;
const HISTORY_LIMIT = 20;
/** How often an Execute in progress looks at the group again. */
export const RESET_POLL_MS = 1000;
/** How soon a phase that met an error of Kafka or Kubernetes tries again (never past the deadline). */
export const RESET_RETRY_MS = 5000;

export interface GroupPort {
  describe(
    groupId: string,
    topics: string[],
  ): Promise<{ state: string; members: { clientId: string; clientHost: string }[] }>;
  /** Also the validation: throws ResetRefusedError (missing topic, ACL) or RangeError (bad target). */
  plan(groupId: string, topics: string[], target: ResetTarget, now?: Date): Promise<PartitionReset[]>;
  /** Throws OffsetCommitError saying which partitions were written when it stops part-way. */
  commit(groupId: string, plan: PartitionReset[]): Promise<void>;
}

export interface OffsetResetDeps extends HoldDeps {
  groups: GroupPort;
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
  DeadlineExceeded: 'DeadlineExceeded',
  DeploymentNotFound: 'DeploymentNotFound',
  InvalidTarget: 'InvalidTarget',
  TopicNotFound: 'TopicNotFound',
  Forbidden: 'Forbidden',
  OffsetsMoved: 'OffsetsMoved',
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

const refusal = (err: unknown): ResetCondition | undefined =>
  err instanceof ResetRefusedError
    ? { status: 'False', reason: err.reason, message: err.message }
    : err instanceof RangeError
      ? { status: 'False', reason: ResetReason.InvalidTarget, message: err.message }
      : undefined;

/** Before anything is scaled, RBAC refusing the consumer's scale is a refusal too: nothing to wait for. */
const refusalBeforeHold = (err: unknown): ResetCondition | undefined =>
  refusal(err) ??
  (err instanceof ReconcileError && err.reason === ResetReason.Forbidden
    ? { status: 'False', reason: ResetReason.Forbidden, message: err.message }
    : undefined);

/**
 * One step of a consumer group's offset reset (spec.consumers[].offsetReset), run once per new
 * requestId. DryRun writes the plan into the status. Execute is a procedure across reconciles,
 * whose state is durable so that any leader can continue it:
 *   1. Validating: plan once (topics, partitions, target, what Kafka lets us read) before anything
 *      is scaled — a refusal (Kafka's, or RBAC's on the Deployment's scale) fails the request with
 *      the consumers untouched; then record in the status which Deployment will be held, its
 *      replicas and its KEDA ScaledObject: the status is the only record, written ahead;
 *   2. ScalingDown: only once that status is stored (a later reconcile), hold the Deployment at 0
 *      (or pause its KEDA ScaledObject), wait for the group to be Empty;
 *   3. fix the plan (concrete offsets) in the status, and only then
 *   4. WritingOffsets: write them; record lastReset and the history;
 *   5. restore the replicas in a later reconcile, once the status that says the request is
 *      finished is stored, so a crash can never write the offsets twice under running consumers.
 * One deadline (timeoutSeconds from the stored start) covers every phase: errors of Kafka or
 * Kubernetes are retried until it, then the request is Failed, with exactly the partitions written
 * so far, and the replicas are given back at once. Whatever holds a Deployment that is no longer an
 * open Execute (finished, failed, changed or removed from the spec) is restored: the operator never
 * leaves a consumer at 0 replicas.
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
  const now = deps.now();
  const openExecute =
    reset && mode === 'Execute' && !alreadyHandled(history, reset.requestId, 'Execute')
      ? reset.requestId
      : undefined;

  // 5 (and every abandoned procedure): restore what a finished or abandoned request holds down.
  const status = await releaseUnlessOpen(namespace, consumer, previous, openExecute, deps);
  if (status.resetInProgress && status.resetInProgress.requestId !== openExecute)
    status.resetInProgress = null;
  if (!reset) return { status };

  if (mode === 'DryRun') {
    if (alreadyHandled(history, reset.requestId, 'DryRun')) return { status };
    let partitions: PartitionReset[];
    try {
      partitions = await deps.groups.plan(consumer.groupId, consumer.topics, reset.to, now);
    } catch (err) {
      const refused = refusal(err);
      if (!refused) throw err;
      status.resetHistory = recordOutcome(history, reset, 'Failed', now, { condition: refused });
      return { status, condition: refused };
    }
    status.lastReset = { requestId: reset.requestId, mode, completedAt: now.toISOString(), partitions };
    status.resetHistory = recordOutcome(history, reset, 'Succeeded', now);
    await deps.event(
      'Normal',
      'OffsetResetPlanned',
      `dry run ${reset.requestId} for ${consumer.groupId}: ${describePlan(partitions)}`,
    );
    return {
      status,
      condition: {
        status: 'True',
        reason: ResetReason.DryRunPlanned,
        message: `dry run ${reset.requestId} for group ${consumer.groupId}: ${partitions.length} partition(s) planned, nothing changed`,
      },
    };
  }
  if (!openExecute) return { status };
  return executeStep(namespace, consumer, reset, status, deps, now);
}

/** One reconcile's worth of an open Execute (see reconcileOffsetReset). */
async function executeStep(
  namespace: string,
  consumer: ConsumerSpec,
  reset: OffsetResetSpec,
  status: ConsumerStatus,
  deps: OffsetResetDeps,
  now: Date,
): Promise<ResetOutcome> {
  const history = status.resetHistory ?? [];
  const deploymentName = consumer.deploymentRef?.name;
  let progress: ResetInProgress = status.resetInProgress ?? {
    requestId: reset.requestId,
    phase: 'Validating',
    startedAt: now.toISOString(),
  };
  const timeoutSeconds = reset.timeoutSeconds ?? DEFAULT_RESET_TIMEOUT_SECONDS;
  const deadline = Date.parse(progress.startedAt) + timeoutSeconds * 1000;
  const prefix = `reset ${reset.requestId}`;

  const fail = async (condition: ResetCondition): Promise<ResetOutcome> => {
    const written = progress.written ?? [];
    // Failed for good, so nothing more is written: the replicas go back now, not a reconcile later.
    const { restored } = await release(namespace, consumer, status, undefined, deps);
    const message = `${condition.message}; ${
      written.length ? `offsets written before it stopped: ${describePlan(written)}` : 'offsets unchanged'
    }${restored ? '; replicas restored' : ''}`;
    status.resetHistory = recordOutcome(history, reset, 'Failed', now, {
      condition: { ...condition, message },
      written,
    });
    status.resetInProgress = null;
    delete status.heldForReset;
    await deps.event('Warning', condition.reason, message);
    return { status, condition: { ...condition, message }, requeueAfterMs: 0 };
  };
  const inProgress = (message: string, requeueAfterMs: number): ResetOutcome => {
    status.resetInProgress = progress;
    return {
      status,
      condition: { status: 'Unknown', reason: ResetReason.InProgress, message: `${prefix}: ${message}` },
      requeueAfterMs,
    };
  };

  const succeed = async (partitions: PartitionReset[]): Promise<ResetOutcome> => {
    status.lastReset = {
      requestId: reset.requestId,
      mode: 'Execute',
      completedAt: now.toISOString(),
      partitions,
    };
    status.resetInProgress = null;
    status.resetHistory = recordOutcome(history, reset, 'Succeeded', now);
    await deps.event(
      'Normal',
      'OffsetsWritten',
      `${prefix} for ${consumer.groupId}: ${describePlan(partitions)}`,
    );
    return {
      status,
      condition: {
        status: 'True',
        reason: ResetReason.OffsetsReset,
        message: `${prefix}: ${partitions.length} offset(s) of group ${consumer.groupId} written`,
      },
      // The replicas come back in the next reconcile, after this status is stored.
      requeueAfterMs: 0,
    };
  };

  const deploymentNotFound = () =>
    fail({
      status: 'False',
      reason: ResetReason.DeploymentNotFound,
      message: `${prefix}: consumer Deployment ${namespace}/${deploymentName} not found`,
    });

  if (now.getTime() >= deadline) {
    return fail({
      status: 'False',
      reason: ResetReason.DeadlineExceeded,
      message: `${prefix}: not finished within ${timeoutSeconds}s (${progress.phase}${progress.lastError ? `: ${progress.lastError}` : ''})`,
    });
  }

  try {
    if (progress.phase === 'Validating') {
      // 1. A plan now proves the topics, partitions, target and Kafka's permissions; it is not kept
      //    (offsets move until the group is Empty).
      await deps.groups.plan(consumer.groupId, consumer.topics, reset.to, now);
      if (deploymentName) {
        const record = await holdRecord(namespace, deploymentName, reset.requestId, deps);
        if (!record) return deploymentNotFound();
        // Written ahead: the hold starts in a later reconcile, whose read of the pipeline has it.
        status.heldForReset = record;
      }
      progress = { ...progress, phase: 'ScalingDown', lastError: undefined };
      return inProgress(`validated; holding the consumers at 0`, 0);
    }

    // 2. Hold (again, if someone scaled them up meanwhile) what the stored status records.
    if (deploymentName) {
      const recorded = status.heldForReset;
      if (recorded?.requestId !== reset.requestId || recorded.deployment !== deploymentName) {
        // Not in the stored status (deploymentRef changed mid-reset): record it first, hold after.
        const record = await holdRecord(namespace, deploymentName, reset.requestId, deps);
        if (!record) return deploymentNotFound();
        status.heldForReset = record;
        return inProgress(`recording ${deploymentName} before holding it at 0`, 0);
      }
      const held = await holdConsumer(namespace, recorded, deps);
      if (!held) return deploymentNotFound();
      status.heldForReset = held;
    }
    const group = await deps.groups.describe(consumer.groupId, consumer.topics);
    if (group.state !== 'Empty' && group.state !== 'Dead') {
      const members = group.members.map((m) => `${m.clientId}@${m.clientHost}`).join(', ');
      progress = {
        ...progress,
        // Offsets of a group are only written while it has no members.
        phase: 'ScalingDown',
        lastError: `waiting for group ${consumer.groupId} to be Empty: ${group.state} with ${group.members.length} member(s)${members ? ` (${members})` : ''}`,
      };
      return inProgress(progress.lastError!, RESET_POLL_MS);
    }

    // 3. Fix the plan before writing anything: a shiftBy planned twice would shift twice. Once
    //    fixed it is never planned again, even if the group had members meanwhile.
    if (!progress.partitions) {
      const partitions = await deps.groups.plan(consumer.groupId, consumer.topics, reset.to, now);
      progress = { ...progress, phase: 'WritingOffsets', partitions, lastError: undefined };
      await deps.event(
        'Normal',
        'GroupEmpty',
        `${prefix}: group ${consumer.groupId} is Empty; plan ${describePlan(partitions)}`,
      );
      return inProgress(`writing ${partitions.length} offset(s)`, 0);
    }

    // 4. Write the fixed plan (idempotent: concrete offsets) and record the result.
    const { partitions } = progress;
    progress = { ...progress, phase: 'WritingOffsets' };
    await deps.groups.commit(consumer.groupId, partitions);
    return await succeed(partitions);
  } catch (err) {
    if (err instanceof OffsetCommitError || (err instanceof ResetRefusedError && err.written))
      progress = { ...progress, written: err.written };
    const refused = progress.phase === 'Validating' ? refusalBeforeHold(err) : refusal(err);
    if (refused) return fail({ ...refused, message: `${prefix}: ${refused.message}` });
    progress = { ...progress, lastError: (err as Error).message ?? String(err) };
    return inProgress(
      `retrying (${progress.phase}): ${progress.lastError}`,
      Math.max(0, Math.min(RESET_RETRY_MS, deadline - now.getTime())),
    );
  }
}

function recordOutcome(
  history: ResetHistoryEntry[],
  reset: OffsetResetSpec,
  outcome: 'Succeeded' | 'Failed',
  now: Date,
  failure?: { condition: ResetCondition; written?: PartitionReset[] },
): ResetHistoryEntry[] {
  const entry: ResetHistoryEntry = {
    requestId: reset.requestId,
    mode: reset.mode ?? 'DryRun',
    outcome,
    at: now.toISOString(),
    ...(failure
      ? {
          reason: failure.condition.reason,
          message: failure.condition.message,
          partitionsWritten: failure.written ?? [],
        }
      : {}),
  };
  return [entry, ...history].slice(0, HISTORY_LIMIT);
}

/**
 * Gives back the consumer replicas the status records as held, unless the hold belongs to
 * `openExecute` on the Deployment the spec still names (a changed deploymentRef lets the old one
 * go). Clears the record once given back. Needs only Kubernetes, so it also runs on deletion, for
 * removed consumer entries, and while Kafka is away.
 */
export async function releaseUnlessOpen(
  namespace: string,
  consumer: Pick<ConsumerSpec, 'deploymentRef'>,
  previous: ConsumerStatus,
  openExecute: string | undefined,
  deps: HoldDeps,
): Promise<ConsumerStatus> {
  const status: ConsumerStatus = { ...previous };
  await release(namespace, consumer, status, openExecute, deps);
  return status;
}

async function release(
  namespace: string,
  consumer: Pick<ConsumerSpec, 'deploymentRef'>,
  status: ConsumerStatus,
  openExecute: string | undefined,
  deps: HoldDeps,
): Promise<{ restored: boolean }> {
  const recorded = status.heldForReset;
  if (!recorded) return { restored: false };
  if (recorded.requestId === openExecute && recorded.deployment === consumer.deploymentRef?.name)
    return { restored: false };
  const restored = await releaseConsumer(namespace, recorded, deps);
  delete status.heldForReset;
  return { restored };
}
