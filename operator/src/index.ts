export { WorkQueue } from './kube/work-queue.js';
export type { ReconcileOutcome, WorkQueueOptions } from './kube/work-queue.js';
export { LeaderElector, NotLeaderError } from './kube/leader-election.js';
export { loadKubeConfig } from './kube/kube-config.js';
export type { KubeClientOptions } from './kube/kube-config.js';
export type { LeaderElectionOptions } from './kube/leader-election.js';
export {
  reconcilePipeline,
  desiredTopics,
  PAUSE_ANNOTATION,
  FINALIZER,
} from './controllers/pipeline-controller.js';
export type { PipelineDeps, ReconcileResult } from './controllers/pipeline-controller.js';
export { Conditions, Reason } from './controllers/conditions.js';
export { ReconcileError } from './controllers/errors.js';
export type * from './controllers/pipeline-types.js';
export { DirectTopicAdmin } from './kafka/topic-admin.js';
export { PipelineClient, StaleWriteError } from './kube/pipeline-client.js';
export {
  StrimziTopics,
  strimziTopicVersion,
  kafkaTopicObjectName,
  FIELD_MANAGER,
} from './kube/strimzi-topics.js';
export { topicPortFor } from './kube/topic-ports.js';
export { KafkaAdminPool, privateAdmin, targetKey } from './kafka/admin-pool.js';
export type { AdminHandle, KafkaTarget, KafkaTargetSource } from './kafka/admin-pool.js';
export { kafkaTargetOf } from './kafka/connection.js';
export type { SecretReader } from './kafka/connection.js';
export { planOffsetReset, parseIsoDuration } from './kafka/offset-plan.js';
export type { PartitionPlan } from './kafka/offset-plan.js';
export { createPipelineDeps } from './pipeline-deps.js';
export { deletePipelinesAndWait } from './kube/pipeline-deletion.js';
export type { OperatorRuntime } from './pipeline-deps.js';
export { ConsumerGroupAdmin } from './kafka/consumer-groups.js';
export { Deployments } from './kube/deployments.js';
export { desiredKedaObjects, kedaObjectName } from './kube/keda-scaled-objects.js';
export { PENDING_COUNT_SQL, BACKLOG_SQL, OutboxBacklogReader } from './db/outbox-backlog.js';
export { recommendReplicas, scalingPolicy, ScaleDownStabilizer } from './controllers/relay-scaling.js';
export { KEDA_PAUSED_REPLICAS_ANNOTATION } from './controllers/consumer-hold.js';
export { WORKLOAD_NAMESPACES_VALUE } from './kube/workload-rbac.js';
export { OperatorMetrics } from './metrics.js';
export { ResetRefusedError, OffsetCommitError } from './controllers/errors.js';
export { DEFAULT_RESET_TIMEOUT_SECONDS } from './controllers/offset-reset-controller.js';
