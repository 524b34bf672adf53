import type { KafkaSecurityConfig } from './client-config.js';

/**
 * A connection Kafka refused for who we are or who it is, rather than for being away: retrying at
 * once cannot help, and the fix is in the configuration (credentials, CA, client certificate).
 */
export interface KafkaSecurityFailure {
  kind: 'authentication' | 'server-certificate' | 'client-certificate';
  /** One sentence naming the brokers, the failing key and what to do. */
  message: string;
}

/**
 * Where the settings a refusal is about come from, so its sentence names what to fix: the services'
 * environment keys by default (envSecuritySources), the pipeline's Secrets in the operator.
 */
export interface KafkaSecuritySources {
  /** What holds the SASL username and password: "check <credentials>". */
  credentials: string;
  /** The configured CA (`detail`: its file or Secret key), if any: "the CA in <name> (<detail>; code)". */
  ca?: { name: string; detail: string };
  /** What to set when no CA is configured: "set <caHint>". */
  caHint: string;
  /** The configured client certificate, if any. */
  clientCertificate?: { name: string; detail: string };
  /** What to set when no client certificate is configured. */
  clientCertificateHint: string;
}

/** The sources of the services' keys (KAFKA_SASL_*, KAFKA_SSL_*_FILE). */
export function envSecuritySources(
  config: Pick<KafkaSecurityConfig, 'KAFKA_SSL_CA_FILE' | 'KAFKA_SSL_CERT_FILE'>,
): KafkaSecuritySources {
  return {
    credentials: 'KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD',
    ...(config.KAFKA_SSL_CA_FILE
      ? { ca: { name: 'KAFKA_SSL_CA_FILE', detail: config.KAFKA_SSL_CA_FILE } }
      : {}),
    caHint: "KAFKA_SSL_CA_FILE to the CA that signed the brokers' certificates",
    ...(config.KAFKA_SSL_CERT_FILE
      ? { clientCertificate: { name: 'KAFKA_SSL_CERT_FILE', detail: config.KAFKA_SSL_CERT_FILE } }
      : {}),
    clientCertificateHint: 'KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE',
  };
}

/** Node's verification codes for "the chain does not end at a CA we trust". */
const untrustedCodes = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
]);
const expiredCodes = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);
/** TLS alerts the broker sends when it does not accept (or did not get) our client certificate. */
const clientCertificateAlert = /ALERT_(BAD_CERTIFICATE|CERTIFICATE_REQUIRED|UNKNOWN_CA|CERTIFICATE_UNKNOWN)/;

interface ErrorLink {
  name?: unknown;
  type?: unknown;
  code?: unknown;
  message?: unknown;
  cause?: unknown;
  originalError?: unknown;
}

/** The error and what it wraps: kafkajs nests the socket's error as `cause`, retries as `originalError`. */
function* chain(err: unknown): Generator<ErrorLink> {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 10; depth++) {
    const link = e as ErrorLink;
    yield link;
    e = link.originalError ?? link.cause;
  }
}

/**
 * Recognises a kafkajs failure as an authentication or TLS-trust refusal and says so in one sentence;
 * `undefined` for anything else (broker down, timeouts, protocol errors), which callers report as
 * they did before. The sentence never contains the password. `sources` names where the settings
 * come from (default: the environment keys of `config`).
 */
export function kafkaSecurityFailure(
  err: unknown,
  config: KafkaSecurityConfig,
  brokers: string[],
  sources: KafkaSecuritySources = envSecuritySources(config),
): KafkaSecurityFailure | undefined {
  const at = `Kafka at ${brokers.join(',')}`;
  for (const e of chain(err)) {
    if (e.name === 'KafkaJSSASLAuthenticationError' || e.type === 'SASL_AUTHENTICATION_FAILED') {
      const mechanism = (config.KAFKA_SASL_MECHANISM ?? 'sasl').toUpperCase();
      const user = config.KAFKA_SASL_USERNAME ?? '(none)';
      return {
        kind: 'authentication',
        message: `${at} refused the credentials (SASL ${mechanism} authentication failed for user '${user}'): check ${sources.credentials}`,
      };
    }
    const code = typeof e.code === 'string' ? e.code : '';
    if (untrustedCodes.has(code)) {
      return {
        kind: 'server-certificate',
        message: sources.ca
          ? `${at} presented a certificate not signed by the CA in ${sources.ca.name} (${sources.ca.detail}; ${code})`
          : `${at} presented a certificate not signed by a CA this process trusts (${code}): set ${sources.caHint}`,
      };
    }
    if (expiredCodes.has(code)) {
      return {
        kind: 'server-certificate',
        message: `${at} presented a certificate outside its validity (${code})`,
      };
    }
    if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
      return {
        kind: 'server-certificate',
        message: `${at} presented a certificate for other host names (${String(e.message)})`,
      };
    }
    if (clientCertificateAlert.test(code)) {
      return {
        kind: 'client-certificate',
        message: sources.clientCertificate
          ? `${at} refused the client certificate in ${sources.clientCertificate.name} (${sources.clientCertificate.detail}; ${code})`
          : `${at} requires a client certificate (${code}): set ${sources.clientCertificateHint}`,
      };
    }
  }
  return undefined;
}
