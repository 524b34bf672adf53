import { Conditions, Reason } from './conditions.js';
import { ReconcileError } from './errors.js';
import type { ProductPipeline, ProductPipelineStatus, TopicSpec, TopicStatus } from './pipeline-types.js';

export const PAUSE_ANNOTATION = 'shopstream.io/paused';
export const FINALIZER = 'shopstream.io/finalizer';
export const RESYNC_MS = 5 * 60_000;

export interface TopicPort {
  ensureTopic(topic: TopicSpec): Promise<TopicStatus>;
  deleteTopic(name: string): Promise<void>;
  close(): Promise<void>;
}

export interface PipelineDeps {
  pipelines: {
    get(namespace: string, name: string): Promise<ProductPipeline | undefined>;
    patchStatus(namespace: string, name: string, status: ProductPipelineStatus): Promise<void>;
    setFinalizers(pipeline: ProductPipeline, finalizers: string[]): Promise<void>;
    recordEvent(
      pipeline: ProductPipeline,
      type: 'Normal' | 'Warning',
      reason: string,
      message: string,
    ): Promise<void>;
  };
  /** A topic handler for the pipeline's mode: Kafka admin API (Direct) or KafkaTopic resources (Strimzi). */
  topics(pipeline: ProductPipeline): TopicPort | Promise<TopicPort>;
}

export type ReconcileResult = { requeueAfterMs?: number };

/** The desired topics of a pipeline, with defaults applied: pure, so it is unit-tested on its own. */
export function desiredTopics(pipeline: ProductPipeline): TopicSpec[] {
  return pipeline.spec.topics.map((t) => ({
    name: t.name,
    partitions: t.partitions,
    replicas: t.replicas ?? 1,
    config: t.config ?? {},
    deletionPolicy: t.deletionPolicy ?? 'Retain',
  }));
}

/**
 * Level-based reconcile of one ProductPipeline key ("namespace/name"): re-read the object, bring
 * its topics to the spec, write the status once. Terminal errors (an invalid spec, a partition
 * decrease) set Ready=False and are not retried; others are rethrown for the queue's backoff.
 * The relay and consumer parts of the spec are not reconciled yet.
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
    await deps.pipelines.patchStatus(namespace, name, { ...status, conditions: conditions.toList() });
    return {};
  }

  let failure: unknown;
  try {
    const topics = await deps.topics(pipeline);
    try {
      const observed: TopicStatus[] = [];
      for (const topic of desiredTopics(pipeline)) observed.push(await topics.ensureTopic(topic));
      status.topics = observed;
    } finally {
      await topics.close();
    }
    const allReady = status.topics.every((t) => t.ready);
    conditions.set(
      'TopicsReady',
      allReady ? 'True' : 'False',
      Reason.TopicsReady,
      `${status.topics.length} topic(s)`,
    );
    conditions.set('Ready', allReady ? 'True' : 'False', Reason.Reconciled, '');
  } catch (err) {
    failure = err;
    const reason = err instanceof ReconcileError ? err.reason : Reason.KafkaUnavailable;
    conditions.set('TopicsReady', 'False', reason, (err as Error).message);
    conditions.set('Ready', 'False', reason, (err as Error).message);
  }
  await deps.pipelines.patchStatus(namespace, name, { ...status, conditions: conditions.toList() });
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
  if (failure && !(failure instanceof ReconcileError && failure.terminal)) throw failure;
  return failure ? {} : { requeueAfterMs: RESYNC_MS };
}

/** Deletes the topics whose deletionPolicy is Delete (never any other), then lets the object go. */
async function finalize(pipeline: ProductPipeline, deps: PipelineDeps): Promise<void> {
  const doomed = desiredTopics(pipeline).filter((t) => t.deletionPolicy === 'Delete');
  if (doomed.length > 0) {
    const topics = await deps.topics(pipeline);
    try {
      for (const t of doomed) await topics.deleteTopic(t.name);
    } finally {
      await topics.close();
    }
  }
  await deps.pipelines.setFinalizers(
    pipeline,
    (pipeline.metadata.finalizers ?? []).filter((f) => f !== FINALIZER),
  );
}
