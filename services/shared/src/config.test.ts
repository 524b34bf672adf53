import { ConfigError, commonConfigSchema, parseConfig } from './config.js';

describe('parseConfig with the common schema', () => {
  it('parses brokers into a list and defaults the log level', () => {
    const config = parseConfig(commonConfigSchema, {
      DATABASE_URL: 'postgres://app@127.0.0.1:55432/shop',
      KAFKA_BROKERS: '127.0.0.1:59092, kafka-1:9092',
    });
    expect(config).toEqual({
      DATABASE_URL: 'postgres://app@127.0.0.1:55432/shop',
      KAFKA_BROKERS: ['127.0.0.1:59092', 'kafka-1:9092'],
      LOG_LEVEL: 'info',
    });
  });

  it('reports every bad key at once', () => {
    let error: unknown;
    try {
      parseConfig(commonConfigSchema, {
        DATABASE_URL: 'mysql://x',
        KAFKA_BROKERS: 'no-port',
        LOG_LEVEL: 'loud',
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const issues = (error as ConfigError).issues;
    expect(issues).toHaveLength(3);
    expect(issues.join('\n')).toMatch(/^DATABASE_URL: must be a postgres:\/\/ URL/m);
    expect(issues.join('\n')).toMatch(/^KAFKA_BROKERS\.0: each broker must be host:port/m);
    expect(issues.join('\n')).toMatch(/^LOG_LEVEL: /m);
  });

  it('rejects a missing database URL', () => {
    expect(() => parseConfig(commonConfigSchema, { KAFKA_BROKERS: 'k:1' })).toThrow(/DATABASE_URL/);
  });
});
