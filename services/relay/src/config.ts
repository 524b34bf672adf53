import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { commonConfigSchema, parseConfig } from '@shopstream/shared';
import type { Env } from '@shopstream/shared';
import { RELAY_COMPRESSIONS } from './kafka-publisher.js';

/** The environment, typed; also what types the workload chart's `config` (npm run charts:schema). */
export const configSchema = commonConfigSchema
  .extend({
    /** This relay's identity in relay_shard.owner; unique per process (pod name + random suffix). */
    RELAY_ID: z.string().min(1).max(200).optional(),
    /** Unset: the database's (relay_config). Set: must equal it, or the relay refuses to start. */
    SHARD_COUNT: z.coerce.number().int().min(1).max(32767).optional(),
    RELAY_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(1000),
    /** A batch ends where its payloads would pass this many bytes, whatever RELAY_BATCH_SIZE says. */
    RELAY_BATCH_MAX_BYTES: z.coerce.number().int().min(1_000).default(8_388_608),
    /** Codec of the record batches the relay sends (gzip: kafkajs's own, no native code). */
    RELAY_COMPRESSION: z.enum(RELAY_COMPRESSIONS).default('none'),
    RELAY_POLL_INTERVAL_MS: z.coerce.number().int().min(10).default(500),
    RELAY_LEASE_MS: z.coerce.number().int().min(1000).default(10_000),
    RELAY_HEARTBEAT_MS: z.coerce.number().int().min(100).default(3_000),
    RELAY_MAX_ATTEMPTS: z.coerce.number().int().min(1).default(10),
    RELAY_BACKOFF_BASE_MS: z.coerce.number().int().min(1).default(500),
    RELAY_BACKOFF_MAX_MS: z.coerce.number().int().min(1).default(60_000),
    RELAY_RETENTION_HOURS: z.coerce.number().int().min(1).default(168),
    RELAY_MAINTENANCE_INTERVAL_MS: z.coerce.number().int().min(1000).default(300_000),
    /** Hourly partitions of published events exist this far ahead of the database clock. */
    RELAY_PARTITION_HOURS_AHEAD: z.coerce.number().int().min(1).max(720).default(24),
    /** lock_timeout of each maintenance statement: the longest a writer can queue behind one. */
    RELAY_MAINTENANCE_LOCK_TIMEOUT_MS: z.coerce.number().int().min(1).max(10_000).default(200),
    /** Idempotency keys are purged after this (the API replays POSTs for 24 h). */
    RELAY_IDEMPOTENCY_TTL_HOURS: z.coerce.number().int().min(1).default(24),
    /** DEAD and SKIPPED outbox rows are purged after this, unless a later event of the product waits. */
    RELAY_DEAD_RETENTION_HOURS: z.coerce.number().int().min(1).default(720),
    /** Deadline of one whole send to Kafka; self-fencing keeps this much lease (+ margin) in hand. */
    KAFKA_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).default(4_000),
    /** Extra lease kept in hand beyond a send's deadline before a send may start. */
    RELAY_FENCE_MARGIN_MS: z.coerce.number().int().min(0).default(1_000),
    /** Records larger than this are the record's fault, refused before sending (broker default ~1 MiB). */
    RELAY_MAX_RECORD_BYTES: z.coerce.number().int().min(1_000).default(1_000_000),
    /** Waits between Kafka probes while the circuit is open: exponential from base to max, with jitter. */
    RELAY_CIRCUIT_BASE_MS: z.coerce.number().int().min(10).default(500),
    RELAY_CIRCUIT_MAX_MS: z.coerce.number().int().min(10).default(30_000),
    KAFKA_CLIENT_ID: z.string().default('shopstream-relay'),
    METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
    METRICS_HOST: z.string().default('0.0.0.0'),
  })
  .refine((c) => c.RELAY_HEARTBEAT_MS * 2 < c.RELAY_LEASE_MS, {
    message: 'RELAY_HEARTBEAT_MS must be under half of RELAY_LEASE_MS, or leases lapse between heartbeats',
    path: ['RELAY_HEARTBEAT_MS'],
  })
  .refine(
    (c) => c.KAFKA_REQUEST_TIMEOUT_MS + c.RELAY_FENCE_MARGIN_MS + c.RELAY_HEARTBEAT_MS < c.RELAY_LEASE_MS,
    {
      message:
        'KAFKA_REQUEST_TIMEOUT_MS + RELAY_FENCE_MARGIN_MS + RELAY_HEARTBEAT_MS must be under RELAY_LEASE_MS: ' +
        'a send may only start when it can finish before the lease ends, and a lease is one heartbeat old at worst',
      path: ['KAFKA_REQUEST_TIMEOUT_MS'],
    },
  )
  .refine((c) => c.RELAY_CIRCUIT_BASE_MS <= c.RELAY_CIRCUIT_MAX_MS, {
    message: 'RELAY_CIRCUIT_BASE_MS must not exceed RELAY_CIRCUIT_MAX_MS',
    path: ['RELAY_CIRCUIT_BASE_MS'],
  });

export type RelayConfig = z.infer<typeof configSchema> & { RELAY_ID: string };

/** @throws ConfigError listing every bad key. */
export function loadConfig(env: Env): RelayConfig {
  const config = parseConfig(configSchema, env);
  return {
    ...config,
    RELAY_ID: config.RELAY_ID ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`,
  };
}
