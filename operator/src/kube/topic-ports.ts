import { CustomObjectsApi, KubernetesObjectApi } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import type { TopicPort } from '../controllers/topic-controller.js';
import type { ProductPipeline } from '../controllers/pipeline-types.js';
import { privateAdmin } from '../kafka/admin-pool.js';
import type { KafkaAdminPool, KafkaTarget } from '../kafka/admin-pool.js';
import { DirectTopicAdmin } from '../kafka/topic-admin.js';
import { StrimziTopics, strimziTopicVersion } from './strimzi-topics.js';

/** How long a discovered KafkaTopic API version is trusted before it is looked up again. */
export const DISCOVERY_TTL_MS = 5 * 60_000;

/**
 * The topic handler a pipeline's `topicManagement` selects. Discovery of the Strimzi API is cached
 * (two requests per lookup, the same answer for every pipeline); only an answer is cached, so a
 * Strimzi installed after the operator is seen at the next reconcile. `target` says where and as
 * whom a Direct pipeline's admin client connects (kafka/connection.ts: Secrets read at the first
 * Kafka call, so a finalizer with nothing to delete needs none); without it, plaintext to
 * spec.kafka.bootstrapServers.
 */
export function topicPortFor(
  kubeConfig: KubeConfig,
  options: {
    kafka?: KafkaAdminPool;
    target?: (pipeline: ProductPipeline) => Promise<KafkaTarget>;
    now?: () => number;
  } = {},
): (pipeline: ProductPipeline) => Promise<TopicPort> {
  const now = options.now ?? Date.now;
  let clients: { objects: KubernetesObjectApi; custom: CustomObjectsApi } | undefined;
  let discovered: { version: string; atMs: number } | undefined;
  const topicVersion = async (): Promise<string> => {
    if (discovered && now() - discovered.atMs < DISCOVERY_TTL_MS) return discovered.version;
    discovered = { version: await strimziTopicVersion(kubeConfig), atMs: now() };
    return discovered.version;
  };
  return async (pipeline) => {
    const { bootstrapServers, topicManagement } = pipeline.spec.kafka;
    if ((topicManagement ?? 'Strimzi') === 'Direct') {
      const { kafka, target } = options;
      if (kafka)
        return new DirectTopicAdmin(kafka.handle(target ? () => target(pipeline) : bootstrapServers));
      return new DirectTopicAdmin(target ? privateAdmin(await target(pipeline)) : bootstrapServers);
    }
    const version = await topicVersion();
    clients ??= {
      objects: KubernetesObjectApi.makeApiClient(kubeConfig),
      custom: kubeConfig.makeApiClient(CustomObjectsApi),
    };
    return new StrimziTopics(kubeConfig, pipeline, version, clients);
  };
}
