import { readFileSync } from 'node:fs';
import type { KafkaConfig } from 'kafkajs';
import type { z } from 'zod';
import type { commonConfigSchema } from '../config.js';

/** The parsed Kafka security keys of the common config (DESIGN §7). */
export type KafkaSecurityConfig = Pick<
  z.infer<typeof commonConfigSchema>,
  'KAFKA_SASL_MECHANISM' | 'KAFKA_SASL_USERNAME' | 'KAFKA_SASL_PASSWORD' | 'KAFKA_SSL' | 'KAFKA_SSL_CA_FILE'
>;

/**
 * The kafkajs `ssl` and `sasl` options for a parsed config; spread them into `new Kafka({...})`
 * next to the client's own options. Without any security keys it returns `{}`, a plaintext client.
 * `readFile` is injected so tests need no CA file on disk.
 * @throws Error when a mechanism has no username or password (the config schema rejects that first).
 */
export function kafkaSecurityOptions(
  config: KafkaSecurityConfig,
  readFile: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  const options: Pick<KafkaConfig, 'ssl' | 'sasl'> = {};
  if (config.KAFKA_SSL) {
    options.ssl = config.KAFKA_SSL_CA_FILE ? { ca: [readFile(config.KAFKA_SSL_CA_FILE)] } : true;
  }
  const mechanism = config.KAFKA_SASL_MECHANISM;
  if (mechanism) {
    const username = config.KAFKA_SASL_USERNAME;
    const password = config.KAFKA_SASL_PASSWORD;
    if (!username || !password) {
      throw new Error('KAFKA_SASL_MECHANISM needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD');
    }
    // One literal per mechanism: kafkajs types SASL options as a union discriminated by it.
    options.sasl =
      mechanism === 'plain'
        ? { mechanism, username, password }
        : mechanism === 'scram-sha-256'
          ? { mechanism, username, password }
          : { mechanism, username, password };
  }
  return options;
}
