import { relayOwner } from '../pipeline/pipeline-view.js';
import type { ConsumerView, PipelineRead, PipelineView } from '../pipeline/pipeline-view.js';

/** "3.0m ago" / "in 2.0m" from an ISO time, or nothing when it cannot be parsed. */
function relative(iso: string, now: Date): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '';
  const s = Math.abs(now.getTime() - t) / 1000;
  const span =
    s < 120 ? `${s.toFixed(0)}s` : s < 7200 ? `${(s / 60).toFixed(1)}m` : `${(s / 3600).toFixed(1)}h`;
  return t <= now.getTime() ? `${span} ago` : `in ${span}`;
}

/** The pipeline section of `shopstream status`. */
export function formatPipeline(read: PipelineRead, now: Date): string[] {
  if (!read.reachable) return [`pipeline: unavailable (${read.error})`];
  if (!read.pipeline) return [`pipeline: none (${read.note})`];
  const p = read.pipeline;
  const ready = p.conditions.find((c) => c.type === 'Ready');
  const lines = [
    `pipeline ${p.namespace}/${p.name}: Ready ${ready ? ready.status : 'not reported'}` +
      ` (generation ${p.generation ?? '-'}, observed ${p.observedGeneration ?? '-'})` +
      `${p.paused ? ', PAUSED by shopstream.io/paused' : ''}`,
  ];
  for (const c of p.conditions) {
    lines.push(`  ${c.type}=${c.status} (${c.reason})${c.message ? `: ${c.message}` : ''}`);
  }
  if (p.relay) {
    const counts = [
      p.relay.desiredReplicas !== null ? `desired ${p.relay.desiredReplicas}` : null,
      p.relay.currentReplicas !== null ? `current ${p.relay.currentReplicas}` : null,
    ].filter(Boolean);
    lines.push(`  relay replicas: ${relayOwner(p)}${counts.length ? `; ${counts.join(', ')}` : ''}`);
  } else {
    lines.push(`  relay replicas: ${relayOwner(p)}`);
  }
  const c = p.consumer;
  if (!c) {
    lines.push('  consumer: the pipeline has no entry for this group');
    return lines;
  }
  const numbers = [
    c.state,
    c.members !== null ? `${c.members} member(s)` : null,
    c.lag !== null ? `lag ${c.lag}` : null,
  ].filter(Boolean);
  lines.push(
    `  consumer ${c.groupId}${c.deployment ? ` (Deployment ${c.deployment})` : ''}${c.inSpec ? '' : ' [removed from the spec]'}: ${numbers.length ? numbers.join(', ') : 'no status yet'}`,
  );
  const r = c.resetInProgress;
  if (r) {
    lines.push(
      `  offset reset ${r.requestId} in progress: phase ${r.phase} since ${r.startedAt} (${relative(r.startedAt, now)}), deadline ${r.deadline} (${relative(r.deadline, now)}, timeout ${r.timeoutSeconds}s)`,
    );
    if (r.lastError) lines.push(`    last error: ${r.lastError}`);
  }
  if (c.held) lines.push(`    ${heldSentence(p, c)}`);
  if (c.lastHistory) {
    const h = c.lastHistory;
    lines.push(
      `  last reset request: ${h.requestId} (${h.mode}) ${h.outcome} at ${h.at}${h.reason ? ` (${h.reason}${h.message ? `: ${h.message}` : ''})` : ''}`,
    );
  }
  return lines;
}

/** Which Deployment a reset holds and what it gets back. */
function heldSentence(p: PipelineView, c: ConsumerView): string {
  const h = c.held!;
  const how = h.scaledObject ? ` (KEDA ScaledObject ${h.scaledObject} paused at 0)` : '';
  const open = c.resetInProgress?.requestId === h.requestId;
  return open
    ? `Deployment ${h.deployment} held at 0 by reset ${h.requestId}${how}; restored to ${h.replicas} replica(s) when the reset finishes, or fails at its deadline ${c.resetInProgress!.deadline}`
    : `Deployment ${h.deployment} still held at 0 for reset ${h.requestId}${how}, which is no longer in progress: the operator restores ${h.replicas} replica(s) on its next reconcile of ${p.namespace}/${p.name}`;
}

/** The `!` lines of the pipeline: conditions that are False, and a consumer Deployment a reset holds. */
export function pipelineFindings(read: PipelineRead): string[] {
  if (!read.reachable || !read.pipeline) return [];
  const p = read.pipeline;
  const out = p.conditions
    .filter((c) => c.status === 'False')
    .map(
      (c) =>
        `pipeline ${p.namespace}/${p.name}: ${c.type}=False (${c.reason})${c.message ? `: ${c.message}` : ''}`,
    );
  const c = p.consumer;
  if (c?.held) {
    out.push(
      `consumer group ${c.groupId} is held at 0 by offset reset ${c.held.requestId}: ${heldSentence(p, c)}. ` +
        `Do not kubectl scale it; to cancel the reset, remove spec.consumers[groupId=${c.groupId}].offsetReset from ProductPipeline ${p.namespace}/${p.name} and the operator restores the replicas`,
    );
  }
  return out;
}

/** True when the group's consumers are down on purpose: a reset holds their Deployment. */
export const heldByReset = (read: PipelineRead | undefined): boolean =>
  Boolean(read?.reachable && read.pipeline?.consumer?.held);
