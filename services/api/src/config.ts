import { z } from 'zod';
import {
  DEFAULT_SHARD_COUNT,
  PRODUCT_EVENTS_TOPIC,
  commonConfigSchema,
  parseConfig,
} from '@shopstream/shared';
import type { Env } from '@shopstream/shared';

const schema = z
  .object({
    DATABASE_URL: commonConfigSchema.shape.DATABASE_URL,
    LOG_LEVEL: commonConfigSchema.shape.LOG_LEVEL,
    PORT: z.coerce.number().int().min(1).max(65535).default(8080),
    HOST: z.string().default('0.0.0.0'),
    /** HS256 secret for seller tokens; at least 32 bytes so it cannot be guessed. */
    JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
    /** Alternatively a JWKS URL (RS256/ES256 tokens from an identity provider). */
    JWT_JWKS_URL: z.url().optional(),
    SHARD_COUNT: z.coerce.number().int().min(1).max(32767).default(DEFAULT_SHARD_COUNT),
    PRODUCT_EVENTS_TOPIC: z.string().min(1).default(PRODUCT_EVENTS_TOPIC),
    DB_POOL_MAX: z.coerce.number().int().min(1).max(200).default(20),
    SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).default(15_000),
    /** Enables the admin page under /admin; without it those URLs answer 404 ADMIN_DISABLED. */
    ADMIN_TOKEN: z.string().min(32, 'must be at least 32 characters').optional(),
    /** Kafka for the admin page's consumer lag table only; unset, the table says so. */
    KAFKA_BROKERS: commonConfigSchema.shape.KAFKA_BROKERS.optional(),
    KAFKA_SASL_MECHANISM: commonConfigSchema.shape.KAFKA_SASL_MECHANISM,
    KAFKA_SASL_USERNAME: commonConfigSchema.shape.KAFKA_SASL_USERNAME,
    KAFKA_SASL_PASSWORD: commonConfigSchema.shape.KAFKA_SASL_PASSWORD,
    KAFKA_SSL: commonConfigSchema.shape.KAFKA_SSL,
    KAFKA_SSL_CA_FILE: commonConfigSchema.shape.KAFKA_SSL_CA_FILE,
    /** The group and topic whose lag the admin page shows: the consumer's own keys and defaults. */
    CONSUMER_GROUP_ID: z.string().min(1).default('product-consumer'),
    CONSUMER_TOPIC: z.string().min(1).default(PRODUCT_EVENTS_TOPIC),
    CONSUMER_START_FROM: z.enum(['earliest', 'latest']).default('earliest'),
  })
  .refine((c) => Boolean(c.JWT_SECRET) !== Boolean(c.JWT_JWKS_URL), {
    message: 'set exactly one of JWT_SECRET or JWT_JWKS_URL: writes need a way to verify seller tokens',
    path: ['JWT_SECRET'],
  });

export type ApiConfig = z.infer<typeof schema>;

/** @throws ConfigError listing every bad key. */
export const loadConfig = (env: Env): ApiConfig => parseConfig(schema, env);
