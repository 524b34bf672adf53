import type { KubeConfig } from '@kubernetes/client-node';
import type { PipelineDeps } from './controllers/pipeline-controller.js';
import type { ProductPipeline } from './controllers/pipeline-types.js';
import { RelayScalingController } from './controllers/relay-scaling-controller.js';
import { OutboxBacklogReader } from './db/outbox-backlog.js';
import { ConsumerGroupAdmin } from './kafka/consumer-groups.js';
import { Deployments } from './kube/deployments.js';
import { ScaledObjectPause } from './kube/scaled-object-pause.js';
import { KedaScaledObjects } from './kube/keda-scaled-objects.js';
import { PipelineClient } from './kube/pipeline-client.js';
import { Secrets } from './kube/secrets.js';
import { topicPortFor } from './kube/topic-ports.js';
import type { OperatorMetrics } from './metrics.js';

export interface OperatorRuntime {
  deps: PipelineDeps;
  /** Closes the database pools the relay scaler keeps. */
  close(): Promise<void>;
}

/**
 * The real adapters behind every controller, wired once: what main.ts runs and what the
 * integration tests drive, so both go through the same composition.
 */
export function createPipelineDeps(
  kubeConfig: KubeConfig,
  options: { metrics?: OperatorMetrics; now?: () => Date } = {},
): OperatorRuntime {
  const now = options.now ?? (() => new Date());
  const pipelines = new PipelineClient(kubeConfig);
  const deployments = new Deployments(kubeConfig);
  const secrets = new Secrets(kubeConfig);
  const backlog = new OutboxBacklogReader();
  const keda = new KedaScaledObjects(kubeConfig);
  const pipelineLabel = (p: ProductPipeline) => `${p.metadata.namespace}/${p.metadata.name}`;
  const relay = new RelayScalingController({
    deployments,
    databaseUrl: (namespace, ref) => secrets.value(namespace, ref.name, ref.key),
    backlog: (url) => backlog.read(url),
    keda,
    setReplicaMetrics: (pipeline, replicas) => {
      const { metrics } = options;
      if (!metrics) return;
      const labels = { pipeline: pipelineLabel(pipeline) };
      if (replicas === undefined) {
        metrics.relayDesiredReplicas.remove(labels);
        metrics.relayMaxReplicas.remove(labels);
      } else {
        metrics.relayDesiredReplicas.set(labels, replicas.desired);
        metrics.relayMaxReplicas.set(labels, replicas.max);
      }
    },
    recordEvent: (...args) => pipelines.recordEvent(...args),
    now,
  });
  return {
    deps: {
      pipelines,
      topics: topicPortFor(kubeConfig),
      relay,
      consumers: {
        groups: (pipeline) => new ConsumerGroupAdmin(pipeline.spec.kafka.bootstrapServers),
        deployments,
        scaledObjects: new ScaledObjectPause(kubeConfig),
        recordEvent: (...args) => pipelines.recordEvent(...args),
        now,
      },
    },
    close: () => backlog.close(),
  };
}
