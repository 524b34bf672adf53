import { z } from 'zod';
import { PRODUCT_EVENTS_TOPIC, commonConfigSchema, parseConfig } from '@shopstream/shared';
import type { Env } from '@shopstream/shared';

/** The environment, typed; also what types the workload chart's `config` (npm run charts:schema). */
export const configSchema = z
  .object({
    DATABASE_URL: commonConfigSchema.shape.DATABASE_URL,
    LOG_LEVEL: commonConfigSchema.shape.LOG_LEVEL,
    PORT: z.coerce.number().int().min(1).max(65535).default(8080),
    HOST: z.string().default('0.0.0.0'),
    /** HS256 secret for seller tokens; at least 32 bytes so it cannot be guessed. */
    JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
    /** Alternatively a JWKS URL (RS256/ES256 tokens from an identity provider); needs issuer and audience. */
    JWT_JWKS_URL: z.url().optional(),
    /** The `iss` every token must carry; required with JWT_JWKS_URL, checked on HS256 tokens when set. */
    JWT_ISSUER: z.string().min(1).optional(),
    /** An `aud` every token must name; required with JWT_JWKS_URL, checked on HS256 tokens when set. */
    JWT_AUDIENCE: z.string().min(1).optional(),
    /** JWKS keys are fetched again when older than this. */
    JWKS_MAX_AGE_MS: z.coerce.number().int().min(1_000).default(600_000),
    /** At most one JWKS fetch per interval for tokens naming an unknown key id. */
    JWKS_MIN_REFRESH_INTERVAL_MS: z.coerce.number().int().min(0).default(30_000),
    JWKS_FETCH_TIMEOUT_MS: z.coerce.number().int().min(100).default(5_000),
    /**
     * Checked against the database's shard count (table relay_config) at start-up: a mismatch stops
     * the API. Unset, the API uses the database's (and records 64 in an empty database).
     */
    SHARD_COUNT: z.coerce.number().int().min(1).max(32767).optional(),
    PRODUCT_EVENTS_TOPIC: z.string().min(1).default(PRODUCT_EVENTS_TOPIC),
    DB_POOL_MAX: z.coerce.number().int().min(1).max(200).default(20),
    /** Giving up on opening a database connection. */
    DB_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).default(5_000),
    /** Waiting for a free pooled connection before answering 503. */
    DB_ACQUIRE_TIMEOUT_MS: z.coerce.number().int().min(100).default(5_000),
    /** Server-side cap on one statement (the search route has its own, shorter one). */
    DB_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
    /** Server-side cap on one search statement. */
    SEARCH_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).default(2_000),
    /** At most this many matching rows are ranked per search, however many match. */
    SEARCH_CANDIDATE_LIMIT: z.coerce.number().int().min(1).max(1_000_000).default(1_000),
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
    KAFKA_SSL_CERT_FILE: commonConfigSchema.shape.KAFKA_SSL_CERT_FILE,
    KAFKA_SSL_KEY_FILE: commonConfigSchema.shape.KAFKA_SSL_KEY_FILE,
    /** The group and topic whose lag the admin page shows: the consumer's own keys and defaults. */
    CONSUMER_GROUP_ID: z.string().min(1).default('product-consumer'),
    CONSUMER_TOPIC: z.string().min(1).default(PRODUCT_EVENTS_TOPIC),
    CONSUMER_START_FROM: z.enum(['earliest', 'latest']).default('earliest'),
    /** The dead-letter topic the admin page's DLQ view reads: the consumer's key (unset: `<CONSUMER_TOPIC>.dlq`). */
    CONSUMER_DLQ_TOPIC: z.string().min(1).optional(),
  })
  .refine((c) => Boolean(c.JWT_SECRET) !== Boolean(c.JWT_JWKS_URL), {
    message: 'set exactly one of JWT_SECRET or JWT_JWKS_URL: writes need a way to verify seller tokens',
    path: ['JWT_SECRET'],
  })
  .refine((c) => !c.JWT_JWKS_URL || c.JWT_ISSUER, {
    message: 'required with JWT_JWKS_URL: the issuer whose tokens are accepted',
    path: ['JWT_ISSUER'],
  })
  .refine((c) => !c.JWT_JWKS_URL || c.JWT_AUDIENCE, {
    message: 'required with JWT_JWKS_URL: the audience tokens must be meant for',
    path: ['JWT_AUDIENCE'],
  });

export type ApiConfig = z.infer<typeof configSchema>;

/** @throws ConfigError listing every bad key. */
export const loadConfig = (env: Env): ApiConfig => parseConfig(configSchema, env);
