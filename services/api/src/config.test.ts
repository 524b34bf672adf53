import { ConfigError } from '@shopstream/shared';
import { loadConfig } from './config.js';

const base = { DATABASE_URL: 'postgres://shop@db:5432/shop' };
const secret = { JWT_SECRET: 'a-development-secret-of-at-least-32-characters' };

function issues(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  return [];
}

describe('the api config', () => {
  it('refuses JWT_JWKS_URL without JWT_ISSUER and JWT_AUDIENCE, naming both', () => {
    expect(issues({ ...base, JWT_JWKS_URL: 'https://login.example.com/jwks.json' })).toEqual([
      'JWT_ISSUER: required with JWT_JWKS_URL: the issuer whose tokens are accepted',
      'JWT_AUDIENCE: required with JWT_JWKS_URL: the audience tokens must be meant for',
    ]);
    expect(
      issues({
        ...base,
        JWT_JWKS_URL: 'https://login.example.com/jwks.json',
        JWT_ISSUER: 'https://login.example.com',
      }),
    ).toEqual(['JWT_AUDIENCE: required with JWT_JWKS_URL: the audience tokens must be meant for']);
  });

  it('accepts JWKS mode with issuer and audience', () => {
    const config = loadConfig({
      ...base,
      JWT_JWKS_URL: 'https://login.example.com/jwks.json',
      JWT_ISSUER: 'https://login.example.com',
      JWT_AUDIENCE: 'shopstream-api',
    });
    expect([config.JWT_ISSUER, config.JWT_AUDIENCE]).toEqual(['https://login.example.com', 'shopstream-api']);
    expect(config.JWKS_MIN_REFRESH_INTERVAL_MS).toBe(30_000);
  });

  it('leaves SHARD_COUNT unset unless configured: the database decides', () => {
    expect(loadConfig({ ...base, ...secret }).SHARD_COUNT).toBeUndefined();
    expect(loadConfig({ ...base, ...secret, SHARD_COUNT: '16' }).SHARD_COUNT).toBe(16);
    expect(issues({ ...base, ...secret, SHARD_COUNT: '0' })).toHaveLength(1);
  });

  it('reads a Kafka client certificate and key (mTLS, a Strimzi tls KafkaUser) under the common rules', () => {
    const kafka = { KAFKA_BROKERS: 'kafka:9093', KAFKA_SSL: 'true' };
    const files = {
      KAFKA_SSL_CERT_FILE: '/etc/kafka-user/user.crt',
      KAFKA_SSL_KEY_FILE: '/etc/kafka-user/user.key',
    };
    const config = loadConfig({ ...base, ...secret, ...kafka, ...files });
    expect([config.KAFKA_SSL_CERT_FILE, config.KAFKA_SSL_KEY_FILE]).toEqual([
      '/etc/kafka-user/user.crt',
      '/etc/kafka-user/user.key',
    ]);
    expect(issues({ ...base, ...secret, ...kafka, KAFKA_SSL_CERT_FILE: files.KAFKA_SSL_CERT_FILE })).toEqual([
      'KAFKA_SSL_CERT_FILE: KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE go together: the client certificate and its key',
    ]);
    expect(issues({ ...base, ...secret, KAFKA_BROKERS: 'kafka:9093', ...files })).toEqual([
      'KAFKA_SSL_CERT_FILE: KAFKA_SSL_CERT_FILE needs KAFKA_SSL=true',
      'KAFKA_SSL_KEY_FILE: KAFKA_SSL_KEY_FILE needs KAFKA_SSL=true',
    ]);
  });

  it('has bounded database and search defaults', () => {
    const config = loadConfig({ ...base, ...secret });
    expect({
      connect: config.DB_CONNECT_TIMEOUT_MS,
      acquire: config.DB_ACQUIRE_TIMEOUT_MS,
      statement: config.DB_STATEMENT_TIMEOUT_MS,
      search: config.SEARCH_STATEMENT_TIMEOUT_MS,
      candidates: config.SEARCH_CANDIDATE_LIMIT,
    }).toEqual({ connect: 5_000, acquire: 5_000, statement: 10_000, search: 2_000, candidates: 1_000 });
  });
});
