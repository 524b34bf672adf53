export { loadConfig } from './config.js';
export type { RelayConfig } from './config.js';

export { KafkaPublisher, recordBytes } from './kafka-publisher.js';
export type { PublishOutcome, FailedSend } from './kafka-publisher.js';
export { PublishError, classifyPublishFailure, isRecordFault } from './publish-failure.js';
export type { PublishFailureReason } from './publish-failure.js';
export { RelayMetrics } from './metrics.js';
export { OutboxListener } from './outbox-listener.js';
export { OutboxStore } from './outbox-store.js';
export type { PendingEvent, PublishedEvent, FailedEvent, Backlog } from './outbox-store.js';
export { Relay } from './relay.js';
export type { RelayMaintenance, RelayTimings } from './relay.js';
export { claimBatch, sendBatch, settleBatch } from './relay-loop.js';
export {
  OutboxMaintenance,
  DEFAULT_MAINTENANCE_SETTINGS,
  MAINTENANCE_STEPS,
  LockUnavailableError,
  inShortTransaction,
  createPartitionTableSql,
  attachPartitionSql,
} from './outbox-maintenance.js';
export type { MaintenanceReport, MaintenanceSettings, MaintenanceStep } from './outbox-maintenance.js';
export { ShardOwnership, monotonicMs } from './shard-ownership.js';
export type { OwnedShards } from './shard-ownership.js';
