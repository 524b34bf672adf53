import { Conditions, Reason } from './conditions.js';
import { reconcileConsumers } from './consumer-controller.js';
import type { ConsumerDeps } from './consumer-controller.js';
import { ReconcileError } from './errors.js';
import { releaseHeldDeployment } from './offset-reset-controller.js';
import type { ProductPipeline, ProductPipelineStatus, RecordEvent } from './pipeline-types.js';
import type { RelayOutcome } from './relay-scaling-controller.js';
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
}

export type ReconcileResult = { requeueAfterMs?: number };

const reasonOf = (err: unknown, fallback: string): string =>
  err instanceof ReconcileError ? err.reason : fallback;

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
  const conditions = new Conditions(generation, previous);
  const status: ProductPipelineStatus = { ...pipeline.status, observedGeneration: generation };

  if (pipeline.metadata.annotations?.[PAUSE_ANNOTATION] === 'true') {
    conditions.set(
      'Ready',
      previous.find((c) => c.type === 'Ready')?.status ?? 'Unknown',
      Reason.Paused,
      'reconciliation paused by annotation',
    );
    await deps.pipelines.patchStatus(pipeline, { ...status, conditions: conditions.toList() });
    return {};
  }

  const failures: unknown[] = [];
  let requeueAfterMs = RESYNC_MS;
  const soonest = (ms: number | undefined) => {
    if (ms !== undefined) requeueAfterMs = Math.min(requeueAfterMs, ms);
  };

  try {
    status.topics = await reconcileTopics(pipeline, deps.topics, conditions);
  } catch (err) {
    failures.push(err);
    conditions.set('TopicsReady', 'False', reasonOf(err, Reason.KafkaUnavailable), (err as Error).message);
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
      reasonOf(err, Reason.KubernetesUnavailable),
      (err as Error).message,
    );
  }

  if (pipeline.spec.consumers?.length) {
    const consumers = await reconcileConsumers(pipeline, deps.consumers);
    status.consumers = consumers.consumers;
    if (consumers.resetCondition) {
      const c = consumers.resetCondition;
      conditions.set('OffsetResetSucceeded', c.status, c.reason, c.message);
    }
    if (consumers.error) failures.push(consumers.error);
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
      reasonOf(firstFailure, Reason.KafkaUnavailable),
      (firstFailure as Error).message,
    );
  else conditions.set('Ready', 'True', Reason.Reconciled, '');

  await deps.pipelines.patchStatus(pipeline, { ...status, conditions: conditions.toList() });
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
  const retryable = failures.find((f) => !(f instanceof ReconcileError && f.terminal));
  if (retryable) throw retryable;
  // A terminal failure waits for a spec change, but the other concerns keep their poll.
  return { requeueAfterMs };
}

/**
 * Before the object goes: give back any consumer replicas an offset reset holds at 0, delete the
 * topics whose deletionPolicy is Delete (never any other), forget the relay's scaling state.
 */
async function finalize(pipeline: ProductPipeline, deps: PipelineDeps): Promise<void> {
  for (const consumer of pipeline.spec.consumers ?? []) {
    await releaseHeldDeployment(pipeline.metadata.namespace, consumer, undefined, {
      deployments: deps.consumers.deployments,
      event: (type, reason, message) =>
        deps.pipelines.recordEvent(pipeline, type, reason, message).catch(() => undefined),
    });
  }
  await deleteTopics(pipeline, deps.topics);
  deps.relay.forget(pipeline);
  await deps.pipelines.setFinalizers(
    pipeline,
    (pipeline.metadata.finalizers ?? []).filter((f) => f !== FINALIZER),
  );
}
