import { DEFAULT_RESET_TIMEOUT_SECONDS } from '@shopstream/operator';
import type { ConsumerStatus, ProductPipeline, ResetHistoryEntry } from '@shopstream/operator';

/**
 * What status and diagnose need from a ProductPipeline (DESIGN §5), taken out of the resource by
 * pure functions so the rules and the report can be unit-tested on plain data; the adapter that
 * reads the API server is pipeline-status.ts.
 */

export type ScalingMode = 'Operator' | 'Keda' | 'Disabled';

export interface ConditionView {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
}

export interface RelayView {
  deployment: string | null;
  /** Who owns the relay Deployment's replicas: Operator (the operator), Keda (KEDA's HPA), Disabled (people). */
  scalingMode: ScalingMode;
  minReplicas: number;
  maxReplicas: number;
  desiredReplicas: number | null;
  currentReplicas: number | null;
}

export interface ResetInProgressView {
  requestId: string;
  phase: string;
  startedAt: string;
  /** startedAt + timeoutSeconds: past it the operator fails the reset and restores the replicas. */
  deadline: string;
  timeoutSeconds: number;
  lastError: string | null;
}

export interface HeldView {
  requestId: string;
  deployment: string;
  /** What the Deployment is restored to. */
  replicas: number;
  /** Set when KEDA's ScaledObject is paused at 0 instead of the Deployment scaled. */
  scaledObject: string | null;
}

export interface ConsumerView {
  groupId: string;
  /** False when only the status still lists the group (its spec entry was removed mid-reset). */
  inSpec: boolean;
  deployment: string | null;
  state: string | null;
  lag: number | null;
  members: number | null;
  /** The reset the spec asks for now, if any. */
  offsetReset: { requestId: string; mode: 'DryRun' | 'Execute'; timeoutSeconds: number } | null;
  resetInProgress: ResetInProgressView | null;
  /** The Deployment a reset holds at 0 (recorded before the scale-down, cleared once restored). */
  held: HeldView | null;
  lastHistory: ResetHistoryEntry | null;
}

export interface PipelineView {
  namespace: string;
  name: string;
  generation: number | null;
  observedGeneration: number | null;
  /** `shopstream.io/paused: "true"`: the operator only says so; a reset in progress waits too. */
  paused: boolean;
  conditions: ConditionView[];
  /** Null when the spec has no relay section: the operator leaves the relay alone. */
  relay: RelayView | null;
  /** The entry for the group asked about; null when the pipeline does not name it. */
  consumer: ConsumerView | null;
}

/** What was read from the API server; `pipeline` null with `note` when no pipeline names the group or topic. */
export interface PipelineFacts {
  reachable: true;
  namespace: string;
  pipeline: PipelineView | null;
  note: string | null;
}

export interface PipelineUnreadable {
  reachable: false;
  error: string;
}

export type PipelineRead = PipelineFacts | PipelineUnreadable;

/** The shape of a selection: the pipeline to use, or why there is none (`error` when it is a failure). */
export type Selection =
  { pipeline: ProductPipeline } | { pipeline: null; note: string } | { pipeline: null; error: string };

/**
 * Which pipeline describes `group` on `topic`: the one named, else the only one whose consumers
 * list the group, else the only one whose topics (or consumers' topics) name the topic. Several
 * candidates are an error naming them (guessing could show another pipeline's reset); none is a
 * note, not an error: a namespace without a pipeline is a normal setup.
 */
export function selectPipeline(
  pipelines: ProductPipeline[],
  wanted: { name?: string; namespace: string; group: string; topic: string },
): Selection {
  const { namespace, group, topic } = wanted;
  if (wanted.name) {
    const named = pipelines.find((p) => p.metadata.name === wanted.name);
    return named
      ? { pipeline: named }
      : { pipeline: null, error: `ProductPipeline ${namespace}/${wanted.name} not found` };
  }
  const byGroup = pipelines.filter((p) => (p.spec.consumers ?? []).some((c) => c.groupId === group));
  const candidates =
    byGroup.length > 0
      ? byGroup
      : pipelines.filter(
          (p) =>
            (p.spec.topics ?? []).some((t) => t.name === topic) ||
            (p.spec.consumers ?? []).some((c) => c.topics.includes(topic)),
        );
  if (candidates.length === 1) return { pipeline: candidates[0]! };
  if (candidates.length > 1) {
    const names = candidates.map((p) => p.metadata.name).sort();
    return {
      pipeline: null,
      error: `${candidates.length} ProductPipelines in namespace ${namespace} name ${byGroup.length > 0 ? `group ${group}` : `topic ${topic}`} (${names.join(', ')}): choose one with --pipeline or SHOPSTREAM_PIPELINE`,
    };
  }
  return {
    pipeline: null,
    note: `no ProductPipeline in namespace ${namespace} names group ${group} or topic ${topic}${
      pipelines.length
        ? ` (${pipelines.length} other(s): ${pipelines
            .map((p) => p.metadata.name)
            .sort()
            .join(', ')})`
        : ''
    }`,
  };
}

/** The parts of `pipeline` that concern `group`, with the reset deadline worked out. */
export function pipelineView(pipeline: ProductPipeline, group: string): PipelineView {
  const { spec, status } = pipeline;
  const relay = spec.relay;
  return {
    namespace: pipeline.metadata.namespace,
    name: pipeline.metadata.name,
    generation: pipeline.metadata.generation ?? null,
    observedGeneration: status?.observedGeneration ?? null,
    paused: pipeline.metadata.annotations?.['shopstream.io/paused'] === 'true',
    conditions: (status?.conditions ?? []).map((c) => ({
      type: c.type,
      status: c.status,
      reason: c.reason,
      message: c.message ?? '',
    })),
    relay: relay
      ? {
          deployment: relay.deploymentRef?.name ?? null,
          // The operator's and the CRD's default: a relay section without scaling is Operator-scaled.
          scalingMode: relay.scaling?.mode ?? 'Operator',
          minReplicas: relay.scaling?.minReplicas ?? 1,
          maxReplicas: relay.scaling?.maxReplicas ?? 8,
          desiredReplicas: status?.relay?.desiredReplicas ?? null,
          currentReplicas: status?.relay?.currentReplicas ?? null,
        }
      : null,
    consumer: consumerView(pipeline, group),
  };
}

function consumerView(pipeline: ProductPipeline, group: string): ConsumerView | null {
  const spec = (pipeline.spec.consumers ?? []).find((c) => c.groupId === group);
  const status: ConsumerStatus | undefined = (pipeline.status?.consumers ?? []).find(
    (c) => c.groupId === group,
  );
  if (!spec && !status) return null;
  const reset = spec?.offsetReset;
  const timeoutSeconds = reset?.timeoutSeconds ?? DEFAULT_RESET_TIMEOUT_SECONDS;
  const progress = status?.resetInProgress ?? null;
  // The deadline belongs to the request in progress; a spec naming another one does not move it.
  const progressTimeout =
    progress && reset?.requestId === progress.requestId ? timeoutSeconds : DEFAULT_RESET_TIMEOUT_SECONDS;
  const held = status?.heldForReset;
  return {
    groupId: group,
    inSpec: Boolean(spec),
    deployment: spec?.deploymentRef?.name ?? held?.deployment ?? null,
    state: status?.state ?? null,
    lag: status?.lag ?? null,
    members: status?.members ?? null,
    offsetReset: reset ? { requestId: reset.requestId, mode: reset.mode ?? 'DryRun', timeoutSeconds } : null,
    resetInProgress: progress
      ? {
          requestId: progress.requestId,
          phase: progress.phase,
          startedAt: progress.startedAt,
          deadline: addSeconds(progress.startedAt, progressTimeout),
          timeoutSeconds: progressTimeout,
          lastError: progress.lastError ?? null,
        }
      : null,
    held: held
      ? {
          requestId: held.requestId,
          deployment: held.deployment,
          replicas: held.replicas,
          scaledObject: held.scaledObject ?? null,
        }
      : null,
    lastHistory: status?.resetHistory?.[0] ?? null,
  };
}

const addSeconds = (iso: string, seconds: number): string => {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? 'unknown' : new Date(t + seconds * 1000).toISOString();
};

/** Whether people may `kubectl scale` the relay Deployment: only when the pipeline does not own its replicas. */
export const relayOwnedByPipeline = (relay: RelayView | null): boolean =>
  relay !== null && relay.scalingMode !== 'Disabled';

/** One phrase naming who owns the relay replicas, for status and diagnose. */
export function relayOwner(p: PipelineView): string {
  const r = p.relay;
  if (!r) return 'not managed by the pipeline (no spec.relay)';
  const d = r.deployment ?? 'the relay Deployment';
  switch (r.scalingMode) {
    case 'Operator':
      return `the operator owns ${d}'s replicas (scaling mode Operator, ${r.minReplicas}..${r.maxReplicas})`;
    case 'Keda':
      return `KEDA owns ${d}'s replicas through the ScaledObject ${p.name}-relay (scaling mode Keda, ${r.minReplicas}..${r.maxReplicas})`;
    case 'Disabled':
      return `nobody manages ${d}'s replicas (scaling mode Disabled): kubectl scale is yours`;
  }
}
