import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { DEFAULT_SHARD_COUNT, commonConfigSchema, parseConfig } from '@shopstream/shared';
import type { Env } from '@shopstream/shared';

const schema = commonConfigSchema
  .extend({
    /** This relay's identity in relay_shard.owner; unique per process (pod name + random suffix). */
    RELAY_ID: z.string().min(1).max(200).optional(),
    SHARD_COUNT: z.coerce.number().int().min(1).max(32767).default(DEFAULT_SHARD_COUNT),
    RELAY_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(200),
    RELAY_POLL_INTERVAL_MS: z.coerce.number().int().min(10).default(500),
    RELAY_LEASE_MS: z.coerce.number().int().min(1000).default(10_000),
    RELAY_HEARTBEAT_MS: z.coerce.number().int().min(100).default(3_000),
    RELAY_MAX_ATTEMPTS: z.coerce.number().int().min(1).default(10),
    RELAY_BACKOFF_BASE_MS: z.coerce.number().int().min(1).default(500),
    RELAY_BACKOFF_MAX_MS: z.coerce.number().int().min(1).default(60_000),
    RELAY_RETENTION_HOURS: z.coerce.number().int().min(1).default(168),
    RELAY_MAINTENANCE_INTERVAL_MS: z.coerce.number().int().min(1000).default(300_000),
    /** How long a send may take before it counts as failed (kafkajs request timeout). */
    KAFKA_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
    KAFKA_CLIENT_ID: z.string().default('shopstream-relay'),
    METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
    METRICS_HOST: z.string().default('0.0.0.0'),
  })
  .refine((c) => c.RELAY_HEARTBEAT_MS * 2 < c.RELAY_LEASE_MS, {
    message: 'RELAY_HEARTBEAT_MS must be under half of RELAY_LEASE_MS, or leases lapse between heartbeats',
    path: ['RELAY_HEARTBEAT_MS'],
  });

export type RelayConfig = z.infer<typeof schema> & { RELAY_ID: string };

/** @throws ConfigError listing every bad key. */
export function loadConfig(env: Env): RelayConfig {
  const config = parseConfig(schema, env);
  return {
    ...config,
    RELAY_ID: config.RELAY_ID ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`,
  };
}
