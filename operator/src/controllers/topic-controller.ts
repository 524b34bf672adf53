import type { Conditions } from './conditions.js';
import { Reason } from './conditions.js';
import { ReconcileError } from './errors.js';
import type { ProductPipeline, TopicSpec, TopicStatus } from './pipeline-types.js';

export interface TopicPort {
  ensureTopic(topic: TopicSpec): Promise<TopicStatus>;
  deleteTopic(name: string): Promise<void>;
  /**
   * Called once as the pipeline goes, after the deletes: leaves nothing on the remaining topics
   * that would let the pipeline's own deletion take them along (an ownerReference).
   */
  release(): Promise<void>;
  close(): Promise<void>;
}

/** A topic handler for the pipeline's mode: Kafka admin API (Direct) or KafkaTopic resources (Strimzi). */
export type TopicPortFactory = (pipeline: ProductPipeline) => TopicPort | Promise<TopicPort>;

/** The desired topics of a pipeline, with defaults applied: pure, so it is unit-tested on its own. */
export function desiredTopics(pipeline: ProductPipeline): TopicSpec[] {
  return pipeline.spec.topics.map((t) => ({
    name: t.name,
    partitions: t.partitions,
    // Unset stays unset: the broker's default.replication.factor (Direct) or Strimzi's decides.
    ...(t.replicas !== undefined ? { replicas: t.replicas } : {}),
    config: t.config ?? {},
    deletionPolicy: t.deletionPolicy ?? 'Retain',
  }));
}

/**
 * Brings the pipeline's topics to the spec and sets TopicsReady.
 * @throws ReconcileError (KafkaUnavailable, PartitionDecreaseRefused, InvalidSpec) for the caller to report.
 */
export async function reconcileTopics(
  pipeline: ProductPipeline,
  factory: TopicPortFactory,
  conditions: Conditions,
): Promise<TopicStatus[]> {
  const topics = await factory(pipeline);
  const observed: TopicStatus[] = [];
  try {
    for (const topic of desiredTopics(pipeline)) {
      try {
        observed.push(await topics.ensureTopic(topic));
      } catch (err) {
        // The condition names the topic: with several, "connection refused" alone says too little.
        if (err instanceof Error) err.message = `topic ${topic.name}: ${err.message}`;
        throw err;
      }
    }
  } finally {
    await topics.close();
  }
  const notReady = observed.filter((t) => !t.ready).map((t) => t.name);
  if (notReady.length)
    conditions.set(
      'TopicsReady',
      'False',
      Reason.TopicsNotReady,
      `not ready yet: ${notReady.join(', ')} (${observed.length - notReady.length} of ${observed.length} ready)`,
    );
  else conditions.set('TopicsReady', 'True', Reason.TopicsReady, `${observed.length} topic(s) ready`);
  return observed;
}

/**
 * Deletes the topics whose deletionPolicy is Delete (never any other) and releases the rest. Topics
 * removed from the spec are neither: the operator stopped managing them when they left the spec.
 * A topic API the cluster does not serve (Strimzi mode without the KafkaTopic CRD, a terminal
 * error) holds no topic of this pipeline, so there is nothing to do rather than a stuck finalizer.
 */
export async function deleteTopics(pipeline: ProductPipeline, factory: TopicPortFactory): Promise<void> {
  const doomed = desiredTopics(pipeline).filter((t) => t.deletionPolicy === 'Delete');
  let topics: TopicPort;
  try {
    topics = await factory(pipeline);
  } catch (err) {
    if (err instanceof ReconcileError && err.terminal) return;
    throw err;
  }
  try {
    for (const t of doomed) await topics.deleteTopic(t.name);
    await topics.release();
  } finally {
    await topics.close();
  }
}
