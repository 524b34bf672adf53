import { z } from 'zod';

/** The environment of a process: injected, so tests never touch `process.env`. */
export type Env = Record<string, string | undefined>;

/** Keys every shopstream process reads (DESIGN §7); each service extends this with its own. */
export const commonConfigSchema = z.object({
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// URL' }),
  KAFKA_BROKERS: z
    .string()
    .min(1)
    .transform((s) => s.split(',').map((b) => b.trim()))
    .pipe(z.array(z.string().regex(/^[^\s:]+:\d+$/, 'each broker must be host:port')).min(1)),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  /** SASL towards Kafka (Strimzi `scram-sha-512` users, or `plain`); unset means no authentication. */
  KAFKA_SASL_MECHANISM: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional(),
  KAFKA_SASL_USERNAME: z.string().min(1).optional(),
  KAFKA_SASL_PASSWORD: z.string().min(1).optional(),
  /** TLS to the brokers (`true` / `false`); unset is false, and stays out of the parsed config. */
  KAFKA_SSL: z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .transform((v) => v === 'true')
    .optional(),
  /** PEM file of the CA that signed the brokers' certificates (Strimzi: `<cluster>-cluster-ca-cert`). */
  KAFKA_SSL_CA_FILE: z.string().min(1).optional(),
  /**
   * mTLS: PEM client certificate and its unencrypted private key (Strimzi KafkaUser with
   * `authentication.type: tls`: keys `user.crt` and `user.key` of the user's Secret). Both or neither.
   */
  KAFKA_SSL_CERT_FILE: z.string().min(1).optional(),
  KAFKA_SSL_KEY_FILE: z.string().min(1).optional(),
});

/**
 * The cross-key rules of the Kafka security keys, as refinements on `schema`. `parseConfig` applies
 * them to every schema that has those keys: zod 4 refuses `.pick()`/`.omit()` on a refined object,
 * and the CLIs pick from `commonConfigSchema`, so the common schema itself stays unrefined.
 * They run even when other keys are bad (`when`), so one error message lists every problem.
 */
export function withKafkaSecurityRules<S extends z.ZodType>(schema: S): S {
  const always = { when: () => true };
  const keys = (c: unknown) => (c ?? {}) as Record<string, unknown>;
  const sslOn = (c: unknown) => keys(c).KAFKA_SSL === true || keys(c).KAFKA_SSL === 'true';
  let refined = schema
    .refine(
      (c) =>
        !keys(c).KAFKA_SASL_MECHANISM || Boolean(keys(c).KAFKA_SASL_USERNAME && keys(c).KAFKA_SASL_PASSWORD),
      {
        ...always,
        message: 'KAFKA_SASL_MECHANISM needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD',
        path: ['KAFKA_SASL_MECHANISM'],
      },
    )
    .refine((c) => !keys(c).KAFKA_SSL_CERT_FILE === !keys(c).KAFKA_SSL_KEY_FILE, {
      ...always,
      message: 'KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE go together: the client certificate and its key',
      path: ['KAFKA_SSL_CERT_FILE'],
    });
  // TLS stays explicit: a file without KAFKA_SSL=true is more likely a half-edited Secret than a wish
  // for TLS. Refused here, it is named at start-up; a plaintext client of a TLS listener only times out.
  for (const file of ['KAFKA_SSL_CA_FILE', 'KAFKA_SSL_CERT_FILE', 'KAFKA_SSL_KEY_FILE']) {
    refined = refined.refine((c) => !keys(c)[file] || sslOn(c), {
      ...always,
      message: `${file} needs KAFKA_SSL=true`,
      path: [file],
    });
  }
  return refined as S;
}

const hasKafkaSecurityKeys = (schema: z.ZodType): boolean =>
  schema instanceof z.ZodObject && 'KAFKA_SASL_MECHANISM' in schema.shape;

export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`invalid configuration: ${issues.join('; ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Parses `env` against `schema` once, at start-up.
 * @throws ConfigError listing every bad key, so one restart fixes them all.
 */
export function parseConfig<S extends z.ZodType>(schema: S, env: Env): z.infer<S> {
  const result = (hasKafkaSecurityKeys(schema) ? withKafkaSecurityRules(schema) : schema).safeParse(env);
  if (result.success) return result.data;
  throw new ConfigError(result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
}
