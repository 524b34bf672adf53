import { Conditions, Reason } from './conditions.js';
import { reconcileConsumers, releaseAllHeld } from './consumer-controller.js';
import type { ConsumerDeps } from './consumer-controller.js';
import { ReconcileError, reasonForError } from './errors.js';
import type { PipelineMemory } from './pipeline-memory.js';
import type { ProductPipeline, ProductPipelineStatus, RecordEvent } from './pipeline-types.js';
import type { RelayOutcome } from './relay-scaling-controller.js';
import { statusWorthWriting } from './status-change.js';
import { deleteTopics, reconcileTopics } from './topic-controller.js';
import type { TopicPortFactory } from './topic-controller.js';

export { desiredTopics } from './topic-controller.js';
export type { TopicPort } from './topic-controller.js';

export const PAUSE_ANNOTATION = 'shopstream.io/paused';
export const FINALIZER = 'shopstream.io/finalizer';
export const RESYNC_MS = 5 * 60_000;
/** How often consumer lag and group state in the status are refreshed. */
export const STATUS_REFRESH_MS = 30_000;

export interface PipelineDeps {
  pipelines: {
    get(namespace: string, name: string): Promise<ProductPipeline | undefined>;
    /** Conditional on `pipeline`'s resourceVersion: a status is never written over a newer object. */
    patchStatus(pipeline: ProductPipeline, status: ProductPipelineStatus): Promise<void>;
    setFinalizers(pipeline: ProductPipeline, finalizers: string[]): Promise<void>;
    recordEvent: RecordEvent;
  };
  topics: TopicPortFactory;
  relay: {
    reconcile(
      pipeline: ProductPipeline,
      previous: ProductPipelineStatus['relay'],
      conditions: Conditions,
    ): Promise<RelayOutcome>;
    forget(pipeline: ProductPipeline): void;
  };
  consumers: ConsumerDeps;
  /**
   * Remembered between reconciles (the operator has one; without it every reconcile does
   * everything and writes any changed status).
   */
  memory?: PipelineMemory;
  /** Every reconcile's outcome for metrics: the status it computed and whether it was written. */
  observe?: {
    reconciled(pipeline: ProductPipeline, status: ProductPipelineStatus, written: boolean): void;
    forget(pipeline: ProductPipeline): void;
  };
}

export type ReconcileResult = { requeueAfterMs?: number };

/**
 * Level-based reconcile of one ProductPipeline key ("namespace/name"): re-read the object, then
 * each concern in turn — topics, relay scaling, consumer groups (state, lag, offset resets) — each
 * reporting into its own condition, and write the status once. A failing concern does not stop
 * the others. Terminal errors (an invalid spec, a partition decrease) are not retried; others are
 * rethrown, after the status is written, for the queue's backoff.
 */
export async function reconcilePipeline(key: string, deps: PipelineDeps): Promise<ReconcileResult> {
  const [namespace, name] = key.split('/') as [string, string];
  const pipeline = await deps.pipelines.get(namespace, name);
  if (!pipeline) return {}; // gone: nothing to do
  const finalizers = pipeline.metadata.finalizers ?? [];
  if (pipeline.metadata.deletionTimestamp) {
    if (finalizers.includes(FINALIZER)) await finalize(pipeline, deps);
    return {};
  }
  if (!finalizers.includes(FINALIZER)) {
    // The finalizer goes on first, so a delete always passes through finalize().
    await deps.pipelines.setFinalizers(pipeline, [...finalizers, FINALIZER]);
    return { requeueAfterMs: 0 };
  }
  const generation = pipeline.metadata.generation ?? 0;
  const previous = pipeline.status?.conditions ?? [];
  const uid = pipeline.metadata.uid ?? key;
  const { memory } = deps;

  if (pipeline.metadata.annotations?.[PAUSE_ANNOTATION] === 'true') {
    // Nothing of this generation was acted on: observedGeneration and the other conditions stay.
    const paused = new Conditions(pipeline.status?.observedGeneration ?? 0, previous);
    if (paused.get('Paused')?.status !== 'True') {
      paused.set('Paused', 'True', Reason.PauseAnnotation, `reconciliation paused by ${PAUSE_ANNOTATION}`);
      await deps.pipelines.patchStatus(pipeline, { ...pipeline.status, conditions: paused.toList() });
    }
    return {};
  }
  const conditions = new Conditions(generation, previous);
  conditions.remove('Paused');
  const status: ProductPipelineStatus = { ...pipeline.status, observedGeneration: generation };

  const failures: unknown[] = [];
  let requeueAfterMs = RESYNC_MS;
  /** An offset reset in progress keeps its own cadence, whatever else fails meanwhile. */
  let resetRequeueMs: number | undefined;
  const soonest = (ms: number | undefined) => {
    if (ms !== undefined) requeueAfterMs = Math.min(requeueAfterMs, ms);
  };

  // The spec's work: at a new generation, until the topics are ready, and at the resync interval;
  // a poll in between keeps the TopicsReady condition and status.topics as they are. The stored
  // condition is checked too: memory only ever skips topics the status says are ready now.
  const topicsReady = conditions.get('TopicsReady');
  if (
    !memory ||
    memory.topicsDue(uid, generation) ||
    topicsReady?.status !== 'True' ||
    topicsReady.observedGeneration !== generation
  ) {
    try {
      status.topics = await reconcileTopics(pipeline, deps.topics, conditions);
      if (conditions.get('TopicsReady')?.status === 'True') memory?.topicsDone(uid, generation);
      else memory?.topicsPending(uid);
    } catch (err) {
      memory?.topicsPending(uid);
      failures.push(err);
      conditions.set(
        'TopicsReady',
        'False',
        reasonForError(err, Reason.KafkaUnavailable),
        (err as Error).message,
      );
    }
  }

  try {
    const relay = await deps.relay.reconcile(pipeline, pipeline.status?.relay, conditions);
    if (relay.relay) status.relay = relay.relay;
    soonest(relay.requeueAfterMs);
  } catch (err) {
    failures.push(err);
    conditions.set(
      'RelayScaled',
      'False',
      reasonForError(err, Reason.KubernetesUnavailable),
      (err as Error).message,
    );
  }

  // Conditions only for concerns present in the spec: a removed relay is not "not scaled".
  if (!pipeline.spec.relay) {
    conditions.remove('RelayScaled');
    status.relay = null; // a merge patch removes a field only when told null
  }
  if (!pipeline.spec.consumers?.some((c) => c.offsetReset)) conditions.remove('OffsetResetSucceeded');
  if (pipeline.spec.consumers?.length || pipeline.status?.consumers?.length) {
    const consumers = await reconcileConsumers(pipeline, deps.consumers);
    status.consumers = consumers.consumers;
    if (consumers.resetCondition) {
      const c = consumers.resetCondition;
      conditions.set('OffsetResetSucceeded', c.status, c.reason, c.message);
    }
    if (consumers.error) failures.push(consumers.error);
    resetRequeueMs = consumers.requeueAfterMs;
    soonest(consumers.requeueAfterMs);
    soonest(STATUS_REFRESH_MS);
  }

  const notReady = ['TopicsReady', 'RelayScaled']
    .map((type) => conditions.get(type))
    .find((c) => c && c.status !== 'True');
  const firstFailure = failures[0];
  if (notReady) conditions.set('Ready', 'False', notReady.reason, notReady.message);
  else if (firstFailure)
    conditions.set(
      'Ready',
      'False',
      reasonForError(firstFailure, Reason.KafkaUnavailable),
      (firstFailure as Error).message,
    );
  else conditions.set('Ready', 'True', Reason.Reconciled, '');

  const next = { ...status, conditions: conditions.toList() };
  const written = statusWorthWriting(pipeline.status, next, memory?.sinceStatusWrite(uid) ?? Infinity);
  if (written) {
    await deps.pipelines.patchStatus(pipeline, next);
    memory?.statusWritten(uid);
  }
  deps.observe?.reconciled(pipeline, next, written);
  for (const c of conditions.transitions(previous)) {
    await deps.pipelines
      .recordEvent(
        pipeline,
        c.status === 'False' ? 'Warning' : 'Normal',
        c.reason,
        `${c.type}=${c.status}${c.message ? `: ${c.message}` : ''}`,
      )
      .catch(() => undefined); // an Event is best effort; the status already says it
  }
  // A refusal only a change elsewhere fixes (RBAC) comes back at its own pace, not the backoff's:
  // a burst of retries cannot help, and a Role added later sends no event.
  for (const f of failures) if (f instanceof ReconcileError) soonest(f.recheckAfterMs);
  const retryable = failures.find(
    (f) => !(f instanceof ReconcileError && (f.terminal || f.recheckAfterMs !== undefined)),
  );
  // Thrown, a failure would put the key on the queue's growing backoff (up to minutes), and a
  // reset's deadline would pass unnoticed by that much; the status above already says what failed.
  if (retryable && resetRequeueMs === undefined) throw retryable;
  // A terminal failure waits for a spec change, but the other concerns keep their poll.
  return { requeueAfterMs };
}

/**
 * Before the object goes: give back any consumer replicas an offset reset holds at 0, delete the
 * topics whose deletionPolicy is Delete (never any other), forget the relay's scaling state.
 */
async function finalize(pipeline: ProductPipeline, deps: PipelineDeps): Promise<void> {
  await releaseAllHeld(pipeline, deps.consumers);
  await deleteTopics(pipeline, deps.topics);
  deps.relay.forget(pipeline);
  deps.memory?.forget(pipeline.metadata.uid ?? '');
  deps.observe?.forget(pipeline);
  await deps.pipelines.setFinalizers(
    pipeline,
    (pipeline.metadata.finalizers ?? []).filter((f) => f !== FINALIZER),
  );
}
