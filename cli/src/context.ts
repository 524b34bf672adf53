import { z } from 'zod';
import { commonConfigSchema, parseConfig, PRODUCT_EVENTS_TOPIC } from '@shopstream/shared';
import type { Env } from '@shopstream/shared';

/** Like kubectl, an empty value counts as unset (`KUBECONFIG= shopstream status`). */
const unsetWhenEmpty = z
  .string()
  .optional()
  .transform((v) => v || undefined);

/**
 * What the CLI reads: the services' own keys (DESIGN §7), so `shopstream` run next to a service
 * (same env, same secrets) looks at the same database, brokers, group and topic.
 */
const schema = z.object({
  DATABASE_URL: commonConfigSchema.shape.DATABASE_URL,
  KAFKA_BROKERS: commonConfigSchema.shape.KAFKA_BROKERS,
  // TLS, SASL and mTLS towards Kafka: the services' keys and rules (parseConfig applies the rules).
  KAFKA_SASL_MECHANISM: commonConfigSchema.shape.KAFKA_SASL_MECHANISM,
  KAFKA_SASL_USERNAME: commonConfigSchema.shape.KAFKA_SASL_USERNAME,
  KAFKA_SASL_PASSWORD: commonConfigSchema.shape.KAFKA_SASL_PASSWORD,
  KAFKA_SSL: commonConfigSchema.shape.KAFKA_SSL,
  KAFKA_SSL_CA_FILE: commonConfigSchema.shape.KAFKA_SSL_CA_FILE,
  KAFKA_SSL_CERT_FILE: commonConfigSchema.shape.KAFKA_SSL_CERT_FILE,
  KAFKA_SSL_KEY_FILE: commonConfigSchema.shape.KAFKA_SSL_KEY_FILE,
  CONSUMER_GROUP_ID: z.string().min(1).default('product-consumer'),
  CONSUMER_TOPIC: z.string().min(1).default(PRODUCT_EVENTS_TOPIC),
  /** The API, for `demo` and the admin page link. */
  API_URL: z.url().default('http://127.0.0.1:8080'),
  /**
   * The ProductPipeline behind the group (status, diagnose): read only when a kubeconfig is given —
   * SHOPSTREAM_KUBECONFIG (a path, or `in-cluster` for the pod's service account), else KUBECONFIG
   * (kubectl's path list). See pipeline/pipeline-status.ts for the selection rules.
   */
  KUBECONFIG: unsetWhenEmpty,
  SHOPSTREAM_KUBECONFIG: unsetWhenEmpty,
  SHOPSTREAM_NAMESPACE: unsetWhenEmpty,
  SHOPSTREAM_PIPELINE: unsetWhenEmpty,
  /** Set by Kubernetes in every pod: where `in-cluster` finds the API server. */
  KUBERNETES_SERVICE_HOST: unsetWhenEmpty,
  KUBERNETES_SERVICE_PORT: unsetWhenEmpty,
});

export type CliConfig = z.infer<typeof schema>;

/** @throws ConfigError naming every bad key. Commands load it lazily, so `--help` needs no env. */
export const loadCliConfig = (env: Env): CliConfig => parseConfig(schema, env);
