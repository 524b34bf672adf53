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
  if (!holdsPem(text)) throw new ConfigError([`${key}: ${path} holds no PEM block`]);
  return text;
}

/** The SASL mechanisms the clients speak (kafkajs' names). */
export type KafkaSaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';

/**
 * What a Kafka connection is secured with, as PEM texts and a login: what the services read from
 * files (KAFKA_SSL_*_FILE) and the operator from Secrets (spec.kafka.tls, spec.kafka.authentication).
 */
export interface KafkaSecurityMaterial {
  /** TLS on; without `ca`, Node's default trust (public CAs) decides. */
  tls?: boolean;
  /** PEM: the CA that signed the brokers' certificates. */
  ca?: string;
  /** PEM: the client certificate and its key (mTLS); they go together. */
  cert?: string;
  key?: string;
  sasl?: { mechanism: KafkaSaslMechanism; username: string; password: string };
}

/** Whether `text` holds a PEM block (a certificate or key rather than DER or a wrong Secret key). */
export const holdsPem = (text: string): boolean => text.includes('-----BEGIN ');

/**
 * The one builder of kafkajs `ssl` and `sasl` options: from PEM texts and a login, however they
 * were obtained. Nothing (no tls, no sasl) is `{}`, a plaintext client.
 * @throws Error when a certificate comes without its key or the other way round.
 */
export function kafkaSecurityFromMaterial(
  material: KafkaSecurityMaterial,
): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  const options: Pick<KafkaConfig, 'ssl' | 'sasl'> = {};
  if (material.tls) {
    const { ca, cert, key } = material;
    if (Boolean(cert) !== Boolean(key))
      throw new Error('a client certificate and its key go together (mTLS): one of them is missing');
    const tls = { ...(ca ? { ca: [ca] } : {}), ...(cert && key ? { cert, key } : {}) };
    // `true` keeps Node's default trust (public CAs) for a cluster with a publicly signed certificate.
    options.ssl = Object.keys(tls).length > 0 ? tls : true;
  }
  const { sasl } = material;
  if (sasl) {
    const { mechanism, username, password } = sasl;
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

/**
 * The kafkajs `ssl` and `sasl` options for a parsed config; spread them into `new Kafka({...})`
 * next to the client's own options. Without any security keys it returns `{}`, a plaintext client.
 * The relay, the consumer, the API and the CLI all build their clients through it (and it through
 * kafkaSecurityFromMaterial, as the operator does), so one set of keys means the same connection
 * everywhere. `readFile` is injected so tests need no files on disk.
 * @throws Error when a mechanism has no username or password (the config schema rejects that first).
 * @throws ConfigError when a PEM file cannot be read or holds no PEM block.
 */
export function kafkaSecurityOptions(
  config: KafkaSecurityConfig,
  readFile: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  const material: KafkaSecurityMaterial = {};
  if (config.KAFKA_SSL) {
    const { KAFKA_SSL_CA_FILE: caFile, KAFKA_SSL_CERT_FILE: certFile, KAFKA_SSL_KEY_FILE: keyFile } = config;
    if (Boolean(certFile) !== Boolean(keyFile)) {
      throw new Error(
        'KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE go together: the client certificate and its key',
      );
    }
    material.tls = true;
    if (caFile) material.ca = readPem('KAFKA_SSL_CA_FILE', caFile, readFile);
    if (certFile && keyFile) {
      material.cert = readPem('KAFKA_SSL_CERT_FILE', certFile, readFile);
      material.key = readPem('KAFKA_SSL_KEY_FILE', keyFile, readFile);
    }
  }
  const mechanism = config.KAFKA_SASL_MECHANISM;
  if (mechanism) {
    const username = config.KAFKA_SASL_USERNAME;
    const password = config.KAFKA_SASL_PASSWORD;
    if (!username || !password) {
      throw new Error('KAFKA_SASL_MECHANISM needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD');
    }
    material.sasl = { mechanism, username, password };
  }
  return kafkaSecurityFromMaterial(material);
}
