import type { KubeConfig } from '@kubernetes/client-node';
import type { TopicPort } from '../controllers/topic-controller.js';
import type { ProductPipeline } from '../controllers/pipeline-types.js';
import { DirectTopicAdmin } from '../kafka/topic-admin.js';
import { StrimziTopics, strimziTopicVersion } from './strimzi-topics.js';

/** The topic handler a pipeline's `topicManagement` selects. */
export function topicPortFor(kubeConfig: KubeConfig): (pipeline: ProductPipeline) => Promise<TopicPort> {
  return async (pipeline) =>
    (pipeline.spec.kafka.topicManagement ?? 'Strimzi') === 'Direct'
      ? new DirectTopicAdmin(pipeline.spec.kafka.bootstrapServers)
      : new StrimziTopics(kubeConfig, pipeline, await strimziTopicVersion(kubeConfig));
}
