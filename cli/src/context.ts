import { z } from 'zod';
import { commonConfigSchema, parseConfig, PRODUCT_EVENTS_TOPIC } from '@shopstream/shared';
import type { Env } from '@shopstream/shared';

/**
 * What the CLI reads: the services' own keys (DESIGN §7), so `shopstream` run next to a service
 * (same env, same secrets) looks at the same database, brokers, group and topic.
 */
const schema = z.object({
  DATABASE_URL: commonConfigSchema.shape.DATABASE_URL,
  KAFKA_BROKERS: commonConfigSchema.shape.KAFKA_BROKERS,
  CONSUMER_GROUP_ID: z.string().min(1).default('product-consumer'),
  CONSUMER_TOPIC: z.string().min(1).default(PRODUCT_EVENTS_TOPIC),
  /** The API, for `demo` and the admin page link. */
  API_URL: z.url().default('http://127.0.0.1:8080'),
});

export type CliConfig = z.infer<typeof schema>;

/** @throws ConfigError naming every bad key. Commands load it lazily, so `--help` needs no env. */
export const loadCliConfig = (env: Env): CliConfig => parseConfig(schema, env);
