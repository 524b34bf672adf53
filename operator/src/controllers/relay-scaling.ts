import type { RelayScalingSpec } from './pipeline-types.js';

/** The relay scaling policy with the CRD's defaults applied. */
export interface ScalingPolicy {
  mode: 'Operator' | 'Keda' | 'Disabled';
  minReplicas: number;
  maxReplicas: number;
  targetPendingPerReplica: number;
  maxOldestPendingAgeSeconds: number;
  scaleDownStabilizationSeconds: number;
  pollIntervalSeconds: number;
}

export function scalingPolicy(spec: RelayScalingSpec = {}): ScalingPolicy {
  return {
    mode: spec.mode ?? 'Operator',
    minReplicas: spec.minReplicas ?? 1,
    maxReplicas: spec.maxReplicas ?? 8,
    targetPendingPerReplica: spec.targetPendingPerReplica ?? 1000,
    maxOldestPendingAgeSeconds: spec.maxOldestPendingAgeSeconds ?? 30,
    scaleDownStabilizationSeconds: spec.scaleDownStabilizationSeconds ?? 300,
    pollIntervalSeconds: spec.pollIntervalSeconds ?? 15,
  };
}

/**
 * The outbox as relay scaling sees it. `pending` and its age count only rows a relay could claim
 * now; the rest of the PENDING rows wait for something more relays cannot hasten.
 */
export interface Backlog {
  /** PENDING rows that are due and not held behind an earlier DEAD or not-yet-due row of their product. */
  pending: number;
  oldestPendingAgeSeconds: number;
  /** PENDING rows held behind a DEAD row of their product: they wait for a requeue or skip. */
  blocked: number;
  /** PENDING rows in backoff, or held behind one of their product that is: they wait for the clock. */
  retrying: number;
  /** The blocked product whose DEAD row is oldest, and how many products are blocked in all. */
  firstBlocked?: { productId: string; deadEventId: string; products: number };
  /** The outbox's SHARD_COUNT (relay_config); unknown until an API or relay has recorded it. */
  shardCount?: number;
}

/**
 * The policy a relay can use: a relay works only on shards it owns, so relays beyond the shard
 * count would own none and idle; maxReplicas (and minReplicas with it) are clamped to it.
 */
export function clampToShards(policy: ScalingPolicy, shardCount: number | undefined): ScalingPolicy {
  if (shardCount === undefined || shardCount >= policy.maxReplicas) return policy;
  return { ...policy, maxReplicas: shardCount, minReplicas: Math.min(policy.minReplicas, shardCount) };
}

/**
 * What the RelayScaled condition says about rows no relay will publish until a person acts;
 * undefined when none are blocked.
 */
export function blockedBacklogMessage(backlog: Backlog): string | undefined {
  if (backlog.blocked === 0 || !backlog.firstBlocked) return undefined;
  const { productId, deadEventId, products } = backlog.firstBlocked;
  const held =
    products > 1
      ? `${backlog.blocked} row(s) of ${products} products held behind DEAD events, the oldest DEAD event ${deadEventId} of product ${productId}`
      : `${backlog.blocked} row(s) held behind DEAD event ${deadEventId} of product ${productId}`;
  return `${held}; not counted for scaling: more relays cannot move them (npx shopstream outbox requeue|skip ${deadEventId})`;
}

/** Within 10% of the target per replica the relay is not resized (the HPA's default tolerance). */
export const TOLERANCE = 0.1;

/**
 * What the backlog asks for, before stabilization: ceil(pending / target); kept at `current`
 * within the tolerance; at least one more than `current` while the oldest pending event is older
 * than allowed (so a stuck-slow backlog keeps adding a replica per poll); clamped to min..max.
 */
export function recommendReplicas(backlog: Backlog, current: number, policy: ScalingPolicy): number {
  let desired = Math.ceil(backlog.pending / policy.targetPendingPerReplica);
  if (current > 0 && desired !== current) {
    const ratio = backlog.pending / (current * policy.targetPendingPerReplica);
    if (Math.abs(ratio - 1) <= TOLERANCE) desired = current;
  }
  if (backlog.pending > 0 && backlog.oldestPendingAgeSeconds > policy.maxOldestPendingAgeSeconds) {
    desired = Math.max(desired, current + 1);
  }
  return Math.min(policy.maxReplicas, Math.max(policy.minReplicas, desired));
}

/**
 * Scale-down stabilization (the HPA's behavior.scaleDown.stabilizationWindowSeconds): going up is
 * immediate; going down takes the highest recommendation seen within the window, so a dip in the
 * backlog does not shed relays that are needed a minute later.
 */
export class ScaleDownStabilizer {
  private readonly recommendations: { at: number; replicas: number }[] = [];

  /**
   * @param seed the replicas running when this stabilizer starts (e.g. after a new leader takes
   *   over): counted as a recommendation made now, so a restart never scales down at once.
   */
  constructor(seed: number, now: Date) {
    this.recommendations.push({ at: now.getTime(), replicas: seed });
  }

  /** Records `recommended` and returns the replicas to run now. */
  stabilize(recommended: number, current: number, windowSeconds: number, now: Date): number {
    const t = now.getTime();
    this.recommendations.push({ at: t, replicas: recommended });
    const horizon = t - windowSeconds * 1000;
    while (this.recommendations.length > 1 && this.recommendations[0]!.at < horizon) {
      this.recommendations.shift();
    }
    if (recommended >= current) return recommended;
    const highest = Math.max(...this.recommendations.filter((r) => r.at >= horizon).map((r) => r.replicas));
    return Math.min(current, highest);
  }
}
