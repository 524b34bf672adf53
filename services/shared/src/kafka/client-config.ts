import { readFileSync } from 'node:fs';
import type { KafkaConfig } from 'kafkajs';
import type { z } from 'zod';
import { ConfigError } from '../config.js';
import type { commonConfigSchema } from '../config.js';

/** The parsed Kafka security keys of the common config (DESIGN §7). */
export type KafkaSecurityConfig = Pick<
  z.infer<typeof commonConfigSchema>,
  | 'KAFKA_SASL_MECHANISM'
  | 'KAFKA_SASL_USERNAME'
  | 'KAFKA_SASL_PASSWORD'
  | 'KAFKA_SSL'
  | 'KAFKA_SSL_CA_FILE'
  | 'KAFKA_SSL_CERT_FILE'
  | 'KAFKA_SSL_KEY_FILE'
>;

type PemKey = 'KAFKA_SSL_CA_FILE' | 'KAFKA_SSL_CERT_FILE' | 'KAFKA_SSL_KEY_FILE';

/**
 * The contents of a PEM file named by `key`. Read once, at start-up: a file that is missing or is
 * not PEM (a DER export, a Secret mounted at the wrong key) would otherwise surface as a TLS
 * handshake failure that names neither the key nor the file.
 * @throws ConfigError naming the key and the file.
 */
function readPem(key: PemKey, path: string, readFile: (path: string) => string): string {
  let text: string;
  try {
    text = readFile(path);
  } catch (err) {
    throw new ConfigError([`${key}: cannot read ${path}: ${(err as Error).message}`]);
  }
  if (!text.includes('-----BEGIN ')) throw new ConfigError([`${key}: ${path} holds no PEM block`]);
  return text;
}

/**
 * The kafkajs `ssl` and `sasl` options for a parsed config; spread them into `new Kafka({...})`
 * next to the client's own options. Without any security keys it returns `{}`, a plaintext client.
 * The relay, the consumer, the API and the CLI all build their clients through it, so one set of
 * keys means the same connection everywhere. `readFile` is injected so tests need no files on disk.
 * @throws Error when a mechanism has no username or password (the config schema rejects that first).
 * @throws ConfigError when a PEM file cannot be read or holds no PEM block.
 */
export function kafkaSecurityOptions(
  config: KafkaSecurityConfig,
  readFile: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  const options: Pick<KafkaConfig, 'ssl' | 'sasl'> = {};
  if (config.KAFKA_SSL) {
    const { KAFKA_SSL_CA_FILE: caFile, KAFKA_SSL_CERT_FILE: certFile, KAFKA_SSL_KEY_FILE: keyFile } = config;
    if (Boolean(certFile) !== Boolean(keyFile)) {
      throw new Error(
        'KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE go together: the client certificate and its key',
      );
    }
    const tls = {
      ...(caFile ? { ca: [readPem('KAFKA_SSL_CA_FILE', caFile, readFile)] } : {}),
      ...(certFile && keyFile
        ? {
            cert: readPem('KAFKA_SSL_CERT_FILE', certFile, readFile),
            key: readPem('KAFKA_SSL_KEY_FILE', keyFile, readFile),
          }
        : {}),
    };
    // `true` keeps Node's default trust (public CAs) for a cluster with a publicly signed certificate.
    options.ssl = Object.keys(tls).length > 0 ? tls : true;
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
