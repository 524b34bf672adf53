import type { OutboxStatus } from '@shopstream/shared';
import type { PipelineRead } from '../pipeline/pipeline-view.js';
import { formatPipeline, heldByReset, pipelineFindings } from './pipeline-report.js';

export interface DeadRow {
  id: string;
  product: string;
  type: string;
  attempts: number;
  lastError: string | null;
}

export interface ShardOwner {
  owner: string;
  shards: number;
  /** Seconds until the soonest of its shard leases expires (negative: expired, a takeover is due). */
  leaseExpiresInSeconds: number;
}

export interface OutboxPart {
  /** Rows by status, as stored: `counts.PENDING` = `pending` + `blocked`. */
  counts: Record<OutboxStatus, number>;
  /** PENDING rows a relay can publish now or after their backoff. */
  pending: number;
  /** PENDING rows held behind a DEAD row of their product: they wait for a requeue or skip, not for relays. */
  blocked: number;
  /** Of the `pending` rows (blocked ones apart). */
  oldestPendingAgeSeconds: number | null;
  oldestBlockedAgeSeconds: number | null;
  /** The oldest DEAD rows, at most `DEAD_ROWS_SHOWN`; `counts.DEAD` is the total. */
  dead: DeadRow[];
  shardOwners: ShardOwner[];
  shardCount: number;
  unownedShards: number;
  relaysAlive: { owner: string; leaseUntil: string }[];
}

export interface GroupPart {
  group: string;
  topic: string;
  /** Kafka's group state: Empty, Stable, PreparingRebalance, CompletingRebalance, Dead (unknown group). */
  state: string;
  members: number;
  /** Messages behind on `topic`; null when the topic does not exist. */
  lag: number | null;
  topicExists: boolean;
}

export interface StatusReport {
  outbox: OutboxPart | { error: string };
  consumerGroup: GroupPart | { error: string };
  /** Present only when a kubeconfig is given: the ProductPipeline behind the group. */
  pipeline?: PipelineRead;
}

export const DEAD_ROWS_SHOWN = 20;

const age = (seconds: number): string =>
  seconds < 120
    ? `${seconds.toFixed(1)}s`
    : seconds < 7200
      ? `${(seconds / 60).toFixed(1)}m`
      : `${(seconds / 3600).toFixed(1)}h`;

/** Plain sentences for problems an operator should act on; empty when all looks healthy. */
export function findings(report: StatusReport): string[] {
  const out: string[] = [];
  const o = report.outbox;
  if (!('error' in o)) {
    if (o.counts.DEAD > 0) {
      const held = o.blocked > 0 ? ` and hold back ${o.blocked} PENDING event(s) of them` : '';
      out.push(
        `${o.counts.DEAD} DEAD event(s) block their products' later events${held}: \`shopstream diagnose\` groups them by cause, \`shopstream outbox list --status dead\`, then \`outbox requeue <id>\` (or \`requeue --all --error-class <class>\`) or \`outbox skip <id>\``,
      );
    }
    if (o.relaysAlive.length === 0 && o.counts.PENDING > 0) {
      out.push(`no relay is alive and ${o.counts.PENDING} event(s) are PENDING: start a relay`);
    }
  }
  const g = report.consumerGroup;
  if (!('error' in g)) {
    if (!g.topicExists) out.push(`topic ${g.topic} does not exist`);
    // A reset holding the Deployment explains the empty group: the pipeline finding says so.
    else if (g.members === 0 && !heldByReset(report.pipeline))
      out.push(`consumer group ${g.group} has no members: no consumer is running`);
  }
  if (report.pipeline) out.push(...pipelineFindings(report.pipeline));
  return out;
}

/** `now` dates the reset's "since" and "deadline" (a parameter so tests fix it). */
export function formatStatus(report: StatusReport, now: Date = new Date()): string {
  const lines: string[] = [];
  const o = report.outbox;
  if ('error' in o) {
    lines.push(`outbox: unavailable (${o.error})`);
  } else {
    const c = o.counts;
    lines.push(
      `outbox: ${o.pending} pending, ${o.blocked} blocked, ${c.PUBLISHED} published, ${c.DEAD} dead, ${c.SKIPPED} skipped`,
      `  oldest pending: ${o.oldestPendingAgeSeconds === null ? '-' : age(o.oldestPendingAgeSeconds)}`,
    );
    if (o.blocked > 0) {
      lines.push(
        `  blocked: ${o.blocked} PENDING event(s) behind a DEAD event of their product (oldest ${age(o.oldestBlockedAgeSeconds ?? 0)}); they move once it is requeued or skipped`,
      );
    }
    if (o.dead.length > 0) {
      lines.push(`  DEAD${c.DEAD > o.dead.length ? ` (oldest ${o.dead.length} of ${c.DEAD})` : ''}:`);
      for (const d of o.dead) {
        lines.push(
          `    ${d.id}  ${d.type.padEnd(16)} product ${d.product}  attempts ${d.attempts}${d.lastError ? `  ${d.lastError.slice(0, 100)}` : ''}`,
        );
      }
    }
    lines.push(
      `relays: ${o.relaysAlive.length} alive${o.relaysAlive.length ? ` (${o.relaysAlive.map((r) => r.owner).join(', ')})` : ''}`,
      `shards: ${o.shardCount - o.unownedShards}/${o.shardCount} owned`,
    );
    for (const s of o.shardOwners) {
      const lease =
        s.leaseExpiresInSeconds >= 0 ? `lease ends in ${age(s.leaseExpiresInSeconds)}` : 'lease EXPIRED';
      lines.push(`  ${s.owner}: ${s.shards} shard(s), ${lease}`);
    }
  }
  const g = report.consumerGroup;
  if ('error' in g) {
    lines.push(`consumer group: unavailable (${g.error})`);
  } else {
    lines.push(
      `consumer group ${g.group} on ${g.topic}: ${g.state}, ${g.members} member(s), ${g.lag === null ? 'topic missing' : `lag ${g.lag} message(s)`}`,
    );
  }
  if (report.pipeline) lines.push(...formatPipeline(report.pipeline, now));
  const problems = findings(report);
  if (problems.length) lines.push('', ...problems.map((p) => `! ${p}`));
  return lines.join('\n');
}
