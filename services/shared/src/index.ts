export { commonConfigSchema, parseConfig, ConfigError, withKafkaSecurityRules } from './config.js';
export type { Env } from './config.js';
export * from './errors.js';
export { createLogger } from './logger.js';
export type { Logger } from './logger.js';
export { newId, isUuid } from './ids.js';
export { backoffMs } from './backoff.js';
export { shardOf, DEFAULT_SHARD_COUNT } from './events/shard.js';
export * from './events/product-events.js';
export * from './db/entities/index.js';
export { ormConfig } from './db/orm-config.js';
export type { OrmConfigOptions } from './db/orm-config.js';
export { migrate, schemaDriftSql } from './db/migrate.js';
export { serveOps } from './ops-server.js';
export { runWorkerProcess } from './worker-process.js';
export type { WorkerProcess } from './worker-process.js';
export { describeLag, explainStart } from './kafka/group-lag.js';
export type { PartitionLag } from './kafka/group-lag.js';
export { holdsPem, kafkaSecurityFromMaterial, kafkaSecurityOptions } from './kafka/client-config.js';
export type {
  KafkaSaslMechanism,
  KafkaSecurityConfig,
  KafkaSecurityMaterial,
} from './kafka/client-config.js';
export { envSecuritySources, kafkaSecurityFailure } from './kafka/security-failure.js';
export { RefusalPauses } from './kafka/refusal-pauses.js';
export type { RefusalPause, RefusalPausesOptions } from './kafka/refusal-pauses.js';
export type { KafkaSecurityFailure, KafkaSecuritySources } from './kafka/security-failure.js';
export { OutboxAdmin, OutboxAdminError } from './outbox/outbox-admin.js';
export type {
  OutboxRowSummary,
  OutboxOverview,
  OutboxBacklog,
  OutboxListFilter,
  SqlClient,
} from './outbox/outbox-admin.js';
export { ERROR_CLASSES, errorClassOf, errorClassSql, isErrorClass } from './outbox/error-class.js';
export type { ErrorClass } from './outbox/error-class.js';
export { pgOptions, DEFAULT_PG_TIMEOUTS } from './db/pg-options.js';
export type { PgTimeouts, PgConnectionOptions } from './db/pg-options.js';
export { resolveShardCount } from './db/shard-count.js';
export { blockedByDeadSql, firstDeadPerProductSql } from './outbox/backlog-sql.js';
export { PartitionReader } from './kafka/partition-reader.js';
export type { FetchedRecord, PartitionRange } from './kafka/partition-reader.js';
export { DlqAdmin, DlqAdminError, DLQ_REPLAY_BATCH } from './dlq/dlq-admin.js';
export type {
  DlqListResult,
  DlqPartitionBounds,
  DlqPosition,
  DlqPurgePlan,
  DlqPurgeTarget,
  DlqReplayReport,
} from './dlq/dlq-admin.js';
export {
  DLQ_HEADER,
  DLQ_REPLAYED_AT_HEADER,
  defaultDlqTopic,
  matchesDlqFilter,
  replayMessage,
  toDlqEntry,
} from './dlq/dlq-record.js';
export type { DlqEntry, DlqFilter, DlqRecord, TextEncoding } from './dlq/dlq-record.js';
