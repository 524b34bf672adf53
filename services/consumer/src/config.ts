import { z } from 'zod';
import { PRODUCT_EVENTS_TOPIC, commonConfigSchema, parseConfig } from '@shopstream/shared';
import type { Env } from '@shopstream/shared';

/** The environment, typed; also what types the workload chart's `config` (npm run charts:schema). */
export const configSchema = commonConfigSchema.extend({
  CONSUMER_GROUP_ID: z.string().min(1).default('product-consumer'),
  CONSUMER_TOPIC: z.string().min(1).default(PRODUCT_EVENTS_TOPIC),
  /** Where a group with no committed offset starts; a group with commits resumes from them. */
  CONSUMER_START_FROM: z.enum(['earliest', 'latest']).default('earliest'),
  CONSUMER_DLQ_TOPIC: z.string().min(1).optional(),
  /**
   * While the topic or the dead-letter topic does not exist (or Kafka does not answer), start-up
   * waits, not ready, and looks again this often.
   */
  CONSUMER_TOPIC_WAIT_INTERVAL_MS: z.coerce.number().int().min(100).default(5_000),
  /** First delay when an environmental error blocks an event; doubles per retry up to the max. */
  CONSUMER_RETRY_BASE_MS: z.coerce.number().int().min(1).default(200),
  CONSUMER_RETRY_MAX_MS: z.coerce.number().int().min(1).default(10_000),
  /** While blocked on one event, how often "consumer still blocked" is logged (with its cause). */
  CONSUMER_BLOCKED_LOG_INTERVAL_MS: z.coerce.number().int().min(100).default(30_000),
  /** Partitions one consumer process applies at once; each needs a database connection. */
  CONSUMER_PARTITIONS_CONCURRENTLY: z.coerce.number().int().min(1).max(64).default(3),
  /** Records of one partition applied in one inbox transaction (set-based statements). */
  CONSUMER_BATCH_MAX: z.coerce.number().int().min(1).max(5000).default(500),
  CONSUMER_LAG_INTERVAL_MS: z.coerce.number().int().min(100).default(5_000),
  /**
   * Inbox (processed_event) rows of the group older than this are purged. Keep it longer than any
   * replay: the source topic's retention.ms (7 days here) plus a day; start-up warns when shorter.
   */
  CONSUMER_INBOX_RETENTION_HOURS: z.coerce.number().int().min(1).default(192),
  /** Pause between inbox purge runs (each deletes batches until fewer than a batch remain). */
  CONSUMER_INBOX_PURGE_INTERVAL_MS: z.coerce.number().int().min(100).default(60_000),
  /** Inbox rows per purge statement, each its own short transaction. */
  CONSUMER_INBOX_PURGE_BATCH: z.coerce.number().int().min(1).max(100_000).default(1_000),
  KAFKA_CLIENT_ID: z.string().default('shopstream-consumer'),
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9465),
  METRICS_HOST: z.string().default('0.0.0.0'),
});

export type ConsumerConfig = z.infer<typeof configSchema> & { CONSUMER_DLQ_TOPIC: string };

/** @throws ConfigError listing every bad key. The DLQ defaults to `<topic>.dlq`. */
export function loadConfig(env: Env): ConsumerConfig {
  const config = parseConfig(configSchema, env);
  return { ...config, CONSUMER_DLQ_TOPIC: config.CONSUMER_DLQ_TOPIC ?? `${config.CONSUMER_TOPIC}.dlq` };
}
