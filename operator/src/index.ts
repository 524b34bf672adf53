export { WorkQueue } from './kube/work-queue.js';
export type { ReconcileOutcome, WorkQueueOptions } from './kube/work-queue.js';
export { LeaderElector } from './kube/leader-election.js';
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
export { PipelineClient } from './kube/pipeline-client.js';
export {
  StrimziTopics,
  strimziTopicVersion,
  kafkaTopicObjectName,
  FIELD_MANAGER,
} from './kube/strimzi-topics.js';
export { topicPortFor } from './kube/topic-ports.js';
export { planOffsetReset, parseIsoDuration } from './kafka/offset-plan.js';
export type { ResetTarget, PartitionPlan } from './kafka/offset-plan.js';
