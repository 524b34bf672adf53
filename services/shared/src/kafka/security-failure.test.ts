import { kafkaSecurityFailure } from './security-failure.js';

const brokers = ['kafka-0:9093', 'kafka-1:9093'];
const scram = {
  KAFKA_SASL_MECHANISM: 'scram-sha-512',
  KAFKA_SASL_USERNAME: 'shop-relay',
  KAFKA_SASL_PASSWORD: 'do-not-print',
  KAFKA_SSL: true,
  KAFKA_SSL_CA_FILE: '/etc/kafka-ca/ca.crt',
} as const;

/** The shapes kafkajs 2.2 throws, as seen against a SASL_SSL broker (tests/integration/shared). */
const saslRefused = Object.assign(
  new Error('SASL SCRAM SHA512 authentication failed: Authentication failed during authentication'),
  { name: 'KafkaJSSASLAuthenticationError' },
);
const connectionError = (code: string) =>
  Object.assign(new Error('Connection error: unable to verify the first certificate'), {
    name: 'KafkaJSNumberOfRetriesExceeded',
    cause: Object.assign(new Error('Connection error'), { name: 'KafkaJSConnectionError', code }),
  });

describe('kafkaSecurityFailure', () => {
  it('names a refused SASL login with mechanism and user, never the password', () => {
    const failure = kafkaSecurityFailure(saslRefused, scram, brokers);
    expect(failure).toEqual({
      kind: 'authentication',
      message:
        "Kafka at kafka-0:9093,kafka-1:9093 refused the credentials (SASL SCRAM-SHA-512 authentication failed for user 'shop-relay'): check KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD",
    });
    expect(failure?.message).not.toContain('do-not-print');
  });

  it('finds the refusal wrapped in kafkajs retries or a broker error type', () => {
    const wrapped = Object.assign(new Error('retries exceeded'), { originalError: saslRefused });
    expect(kafkaSecurityFailure(wrapped, scram, brokers)?.kind).toBe('authentication');
    const typed = Object.assign(new Error('x'), { type: 'SASL_AUTHENTICATION_FAILED' });
    expect(kafkaSecurityFailure(typed, scram, brokers)?.kind).toBe('authentication');
  });

  it.each(['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN'])(
    'names a server certificate (%s) not signed by the CA in KAFKA_SSL_CA_FILE',
    (code) => {
      expect(kafkaSecurityFailure(connectionError(code), scram, ['kafka:9093'])?.message).toBe(
        `Kafka at kafka:9093 presented a certificate not signed by the CA in KAFKA_SSL_CA_FILE (/etc/kafka-ca/ca.crt; ${code})`,
      );
    },
  );

  it('says to set KAFKA_SSL_CA_FILE when none is set, and names expiry and host-name mismatches', () => {
    const noCa = { KAFKA_SSL: true };
    expect(
      kafkaSecurityFailure(connectionError('SELF_SIGNED_CERT_IN_CHAIN'), noCa, brokers)?.message,
    ).toMatch(/not signed by a CA this process trusts .*: set KAFKA_SSL_CA_FILE/);
    expect(kafkaSecurityFailure(connectionError('CERT_HAS_EXPIRED'), noCa, brokers)?.message).toMatch(
      /certificate outside its validity \(CERT_HAS_EXPIRED\)/,
    );
    expect(kafkaSecurityFailure(connectionError('ERR_TLS_CERT_ALTNAME_INVALID'), noCa, brokers)?.kind).toBe(
      'server-certificate',
    );
  });

  it('names a client certificate the broker refused, or one it asked for and did not get', () => {
    const alert = connectionError('ERR_SSL_SSL/TLS_ALERT_BAD_CERTIFICATE');
    expect(
      kafkaSecurityFailure(
        alert,
        { KAFKA_SSL: true, KAFKA_SSL_CERT_FILE: '/u/user.crt', KAFKA_SSL_KEY_FILE: '/u/user.key' },
        brokers,
      )?.message,
    ).toMatch(/refused the client certificate in KAFKA_SSL_CERT_FILE \(\/u\/user\.crt;/);
    expect(kafkaSecurityFailure(alert, { KAFKA_SSL: true }, brokers)?.message).toMatch(
      /requires a client certificate .*: set KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE/,
    );
  });

  it('names the settings where `sources` says they come from (the operator: Secrets and spec fields)', () => {
    const sources = {
      credentials: 'the password in secret shop/relay (key password)',
      ca: { name: 'secret shop/cluster-ca-cert', detail: 'key ca.crt' },
      caHint: 'spec.kafka.tls.caSecretRef',
      clientCertificateHint: 'spec.kafka.authentication',
    };
    expect(kafkaSecurityFailure(saslRefused, scram, brokers, sources)?.message).toMatch(
      /for user 'shop-relay'\): check the password in secret shop\/relay \(key password\)$/,
    );
    expect(
      kafkaSecurityFailure(connectionError('SELF_SIGNED_CERT_IN_CHAIN'), scram, brokers, sources)?.message,
    ).toMatch(
      /not signed by the CA in secret shop\/cluster-ca-cert \(key ca\.crt; SELF_SIGNED_CERT_IN_CHAIN\)$/,
    );
    const alert = connectionError('ERR_SSL_SSL/TLS_ALERT_CERTIFICATE_REQUIRED');
    expect(kafkaSecurityFailure(alert, {}, brokers, sources)?.message).toMatch(
      /requires a client certificate .*: set spec\.kafka\.authentication$/,
    );
  });

  it('leaves every other failure to its caller', () => {
    expect(kafkaSecurityFailure(connectionError('ECONNREFUSED'), scram, brokers)).toBeUndefined();
    expect(kafkaSecurityFailure(new Error('boom'), scram, brokers)).toBeUndefined();
    expect(kafkaSecurityFailure(undefined, scram, brokers)).toBeUndefined();
  });
});
