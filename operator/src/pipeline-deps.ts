import type { KubeConfig } from '@kubernetes/client-node';
import type { ConsumerGroupsPort } from './controllers/consumer-controller.js';
import { RESYNC_MS } from './controllers/pipeline-controller.js';
import type { PipelineDeps } from './controllers/pipeline-controller.js';
import { PipelineMemory } from './controllers/pipeline-memory.js';
import type { ProductPipeline } from './controllers/pipeline-types.js';
import { RelayScalingController } from './controllers/relay-scaling-controller.js';
import { OutboxBacklogReader } from './db/outbox-backlog.js';
import { KafkaAdminPool } from './kafka/admin-pool.js';
import { kafkaTargetOf } from './kafka/connection.js';
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
  /** Closes the database pools the relay scaler keeps and the Kafka admin clients. */
  close(): Promise<void>;
}

/**
 * The real adapters behind every controller, wired once: what main.ts runs and what the
 * integration tests drive, so both go through the same composition.
 */
export function createPipelineDeps(
  kubeConfig: KubeConfig,
  options: {
    metrics?: OperatorMetrics;
    now?: () => Date;
    /**
     * Throws unless this replica holds the lease right now. Offset commits check it: Kafka has no
     * resourceVersion, so this (and the process exiting on a lost lease) is what keeps a frozen
     * former leader from committing a plan again after its successor finished the reset.
     */
    assertLeading?: () => void;
  } = {},
): OperatorRuntime {
  const now = options.now ?? (() => new Date());
  const leaderOnlyCommits = (admin: ConsumerGroupAdmin): ConsumerGroupsPort => ({
    describe: (...args) => admin.describe(...args),
    plan: (...args) => admin.plan(...args),
    commit: async (...args) => {
      options.assertLeading?.();
      await admin.commit(...args);
    },
    close: () => admin.close(),
  });
  const kafka = new KafkaAdminPool({ onConnect: () => options.metrics?.kafkaConnections.inc() });
  const pipelines = new PipelineClient(kubeConfig);
  const deployments = new Deployments(kubeConfig);
  const secrets = new Secrets(kubeConfig);
  const backlog = new OutboxBacklogReader();
  const keda = new KedaScaledObjects(kubeConfig);
  // Every operator Kafka client of a pipeline connects as its spec.kafka says (TLS, SCRAM or mTLS).
  const kafkaTarget = (pipeline: ProductPipeline) => kafkaTargetOf(pipeline, secrets);
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
      topics: topicPortFor(kubeConfig, { kafka, target: kafkaTarget }),
      relay,
      consumers: {
        groups: (pipeline) =>
          leaderOnlyCommits(new ConsumerGroupAdmin(kafka.handle(() => kafkaTarget(pipeline)))),
        deployments,
        scaledObjects: new ScaledObjectPause(kubeConfig),
        recordEvent: (...args) => pipelines.recordEvent(...args),
        now,
      },
      memory: new PipelineMemory(RESYNC_MS),
      observe: options.metrics && volatileMetrics(options.metrics, pipelineLabel),
    },
    close: async () => {
      await backlog.close();
      await kafka.close();
    },
  };
}

/** The numbers a status carries only on meaningful change, as gauges set at every reconcile. */
function volatileMetrics(
  metrics: OperatorMetrics,
  pipelineLabel: (p: ProductPipeline) => string,
): NonNullable<PipelineDeps['observe']> {
  const groups = new Map<string, string[]>();
  const forget = (pipeline: ProductPipeline) => {
    const label = pipelineLabel(pipeline);
    metrics.relayPendingEvents.remove({ pipeline: label });
    for (const group of groups.get(label) ?? []) metrics.consumerLag.remove({ pipeline: label, group });
    groups.delete(label);
  };
  return {
    reconciled: (pipeline, status, written) => {
      const label = pipelineLabel(pipeline);
      metrics.statusWrites.inc({ result: written ? 'written' : 'unchanged' });
      if (status.relay?.pendingEvents !== undefined)
        metrics.relayPendingEvents.set({ pipeline: label }, status.relay.pendingEvents);
      else metrics.relayPendingEvents.remove({ pipeline: label });
      const now = (status.consumers ?? []).filter((c) => c.lag !== undefined);
      for (const gone of (groups.get(label) ?? []).filter((g) => !now.some((c) => c.groupId === g)))
        metrics.consumerLag.remove({ pipeline: label, group: gone });
      for (const c of now) metrics.consumerLag.set({ pipeline: label, group: c.groupId }, c.lag!);
      groups.set(
        label,
        now.map((c) => c.groupId),
      );
    },
    forget,
  };
}
