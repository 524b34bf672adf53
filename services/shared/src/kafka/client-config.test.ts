import { z } from 'zod';
import { ConfigError, commonConfigSchema, parseConfig } from '../config.js';
import { holdsPem, kafkaSecurityFromMaterial, kafkaSecurityOptions } from './client-config.js';

const base = { DATABASE_URL: 'postgres://app@db:5432/shop', KAFKA_BROKERS: 'kafka:9092' };
const issuesOf = (schema: z.ZodType, env: Record<string, string>): string[] => {
  try {
    parseConfig(schema, env);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  return [];
};

describe('Kafka security keys of the common config', () => {
  it('default to a plaintext client without SASL', () => {
    const config = parseConfig(commonConfigSchema, base);
    expect(config.KAFKA_SSL).toBeUndefined();
    expect(kafkaSecurityOptions(config)).toEqual({});
  });

  it.each(['plain', 'scram-sha-256', 'scram-sha-512'] as const)(
    'turn mechanism %s with its username and password into kafkajs sasl options',
    (mechanism) => {
      const config = parseConfig(commonConfigSchema, {
        ...base,
        KAFKA_SASL_MECHANISM: mechanism,
        KAFKA_SASL_USERNAME: 'shop-relay',
        KAFKA_SASL_PASSWORD: 's3cret',
      });
      expect(kafkaSecurityOptions(config)).toEqual({
        sasl: { mechanism, username: 'shop-relay', password: 's3cret' },
      });
    },
  );

  it('turn KAFKA_SSL=true into ssl: true, and a CA file into ssl.ca read from that file', () => {
    expect(kafkaSecurityOptions(parseConfig(commonConfigSchema, { ...base, KAFKA_SSL: 'true' }))).toEqual({
      ssl: true,
    });
    const read: string[] = [];
    const withCa = parseConfig(commonConfigSchema, {
      ...base,
      KAFKA_SSL: 'true',
      KAFKA_SSL_CA_FILE: '/etc/kafka-ca/ca.crt',
    });
    const options = kafkaSecurityOptions(withCa, (path) => {
      read.push(path);
      return '-----BEGIN CERTIFICATE-----';
    });
    expect(options).toEqual({ ssl: { ca: ['-----BEGIN CERTIFICATE-----'] } });
    expect(read).toEqual(['/etc/kafka-ca/ca.crt']);
  });

  it('turn a client certificate and key into ssl.cert and ssl.key next to the CA (mTLS)', () => {
    const files: Record<string, string> = {
      '/etc/kafka-ca/ca.crt': '-----BEGIN CERTIFICATE-----ca',
      '/etc/kafka-user/user.crt': '-----BEGIN CERTIFICATE-----user',
      '/etc/kafka-user/user.key': '-----BEGIN PRIVATE KEY-----user',
    };
    const config = parseConfig(commonConfigSchema, {
      ...base,
      KAFKA_SSL: 'true',
      KAFKA_SSL_CA_FILE: '/etc/kafka-ca/ca.crt',
      KAFKA_SSL_CERT_FILE: '/etc/kafka-user/user.crt',
      KAFKA_SSL_KEY_FILE: '/etc/kafka-user/user.key',
    });
    expect(kafkaSecurityOptions(config, (path) => files[path]!)).toEqual({
      ssl: {
        ca: ['-----BEGIN CERTIFICATE-----ca'],
        cert: '-----BEGIN CERTIFICATE-----user',
        key: '-----BEGIN PRIVATE KEY-----user',
      },
    });
    const withoutCa = { ...config, KAFKA_SSL_CA_FILE: undefined };
    expect(kafkaSecurityOptions(withoutCa, (path) => files[path]!).ssl).toEqual({
      cert: '-----BEGIN CERTIFICATE-----user',
      key: '-----BEGIN PRIVATE KEY-----user',
    });
  });

  it('reject a certificate without its key (and the reverse), and any file without KAFKA_SSL=true', () => {
    expect(
      issuesOf(commonConfigSchema, { ...base, KAFKA_SSL: 'true', KAFKA_SSL_CERT_FILE: '/user.crt' }),
    ).toEqual([
      'KAFKA_SSL_CERT_FILE: KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE go together: the client certificate and its key',
    ]);
    expect(
      issuesOf(commonConfigSchema, { ...base, KAFKA_SSL: 'true', KAFKA_SSL_KEY_FILE: '/user.key' }),
    ).toHaveLength(1);
    expect(
      issuesOf(commonConfigSchema, {
        ...base,
        KAFKA_SSL: 'false',
        KAFKA_SSL_CERT_FILE: '/user.crt',
        KAFKA_SSL_KEY_FILE: '/user.key',
      }),
    ).toEqual([
      'KAFKA_SSL_CERT_FILE: KAFKA_SSL_CERT_FILE needs KAFKA_SSL=true',
      'KAFKA_SSL_KEY_FILE: KAFKA_SSL_KEY_FILE needs KAFKA_SSL=true',
    ]);
  });

  it('name the key and the file when a PEM file is missing or is not PEM', () => {
    const config = parseConfig(commonConfigSchema, {
      ...base,
      KAFKA_SSL: 'true',
      KAFKA_SSL_CA_FILE: '/nowhere/ca.crt',
      KAFKA_SSL_CERT_FILE: '/etc/user.der',
      KAFKA_SSL_KEY_FILE: '/etc/user.key',
    });
    expect(() => kafkaSecurityOptions(config)).toThrow(
      /^invalid configuration: KAFKA_SSL_CA_FILE: cannot read \/nowhere\/ca\.crt: ENOENT/,
    );
    const read = (path: string) => (path === '/etc/user.der' ? '0\x82\x03' : '-----BEGIN X-----');
    expect(() => kafkaSecurityOptions(config, read)).toThrow(
      'invalid configuration: KAFKA_SSL_CERT_FILE: /etc/user.der holds no PEM block',
    );
  });

  it('reject a mechanism without username or password, next to any other bad key', () => {
    const issues = issuesOf(commonConfigSchema, {
      ...base,
      DATABASE_URL: 'mysql://x',
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'shop-relay',
    });
    expect(issues.join('\n')).toMatch(/^DATABASE_URL: /m);
    expect(issues.join('\n')).toMatch(
      /^KAFKA_SASL_MECHANISM: KAFKA_SASL_MECHANISM needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD$/m,
    );
    expect(issuesOf(commonConfigSchema, { ...base, KAFKA_SASL_MECHANISM: 'plain' })).toHaveLength(1);
  });

  it('reject an unknown mechanism, an SSL flag other than true/false, and a CA file without SSL', () => {
    const issues = issuesOf(commonConfigSchema, {
      ...base,
      KAFKA_SASL_MECHANISM: 'gssapi',
      KAFKA_SASL_USERNAME: 'u',
      KAFKA_SASL_PASSWORD: 'p',
      KAFKA_SSL: 'yes',
    }).join('\n');
    expect(issues).toMatch(/^KAFKA_SASL_MECHANISM: /m);
    expect(issues).toMatch(/^KAFKA_SSL: must be true or false$/m);
    expect(issuesOf(commonConfigSchema, { ...base, KAFKA_SSL_CA_FILE: '/ca.crt' })).toEqual([
      'KAFKA_SSL_CA_FILE: KAFKA_SSL_CA_FILE needs KAFKA_SSL=true',
    ]);
  });

  it('apply their rules to a service schema extended from the common one, whatever else it refines', () => {
    const service = commonConfigSchema
      .extend({ SERVICE_LIMIT: z.coerce.number().int().min(1).default(5) })
      .refine((c) => c.SERVICE_LIMIT < 100, { message: 'too high', path: ['SERVICE_LIMIT'] });
    expect(issuesOf(service, { ...base, KAFKA_SASL_MECHANISM: 'plain' })).toEqual([
      'KAFKA_SASL_MECHANISM: KAFKA_SASL_MECHANISM needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD',
    ]);
    expect(issuesOf(service, { ...base, SERVICE_LIMIT: '500' })).toEqual(['SERVICE_LIMIT: too high']);
  });

  it('leave a picked subset of the common schema usable (the CLIs pick DATABASE_URL)', () => {
    const picked = commonConfigSchema.pick({ DATABASE_URL: true });
    expect(parseConfig(picked, { DATABASE_URL: base.DATABASE_URL, KAFKA_SASL_MECHANISM: 'plain' })).toEqual({
      DATABASE_URL: base.DATABASE_URL,
    });
  });

  it('throw when handed a mechanism without credentials directly', () => {
    expect(() => kafkaSecurityOptions({ KAFKA_SASL_MECHANISM: 'plain' })).toThrow(/KAFKA_SASL_USERNAME/);
  });
});

describe('kafkaSecurityFromMaterial (the one builder, also for PEMs read from Secrets)', () => {
  it('builds the same options from PEM texts as kafkaSecurityOptions does from files', () => {
    const material = {
      tls: true,
      ca: '-----BEGIN CERTIFICATE-----ca',
      sasl: { mechanism: 'scram-sha-512' as const, username: 'operator', password: 'secret' },
    };
    expect(kafkaSecurityFromMaterial(material)).toEqual({
      ssl: { ca: ['-----BEGIN CERTIFICATE-----ca'] },
      sasl: { mechanism: 'scram-sha-512', username: 'operator', password: 'secret' },
    });
    expect(kafkaSecurityFromMaterial({ tls: true })).toEqual({ ssl: true });
    expect(kafkaSecurityFromMaterial({})).toEqual({});
    expect(() => kafkaSecurityFromMaterial({ tls: true, cert: '-----BEGIN CERTIFICATE-----' })).toThrow(
      /certificate and its key go together/,
    );
  });

  it('recognises a PEM block', () => {
    expect(holdsPem('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n')).toBe(true);
    expect(holdsPem('MIIBszCCAVmgAwIBAgIU')).toBe(false);
  });
});
