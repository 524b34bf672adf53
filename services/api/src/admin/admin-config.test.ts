import { ConfigError } from '@shopstream/shared';
import { loadConfig } from '../config.js';

const base = {
  DATABASE_URL: 'postgres://shop@db:5432/shop',
  JWT_SECRET: 'a-development-secret-of-at-least-32-characters',
};

describe('the admin keys of the api config', () => {
  it('leaves the admin page and its Kafka lag off unless configured', () => {
    const config = loadConfig(base);
    expect(config.ADMIN_TOKEN).toBeUndefined();
    expect(config.KAFKA_BROKERS).toBeUndefined();
    expect([config.CONSUMER_GROUP_ID, config.CONSUMER_TOPIC]).toEqual(['product-consumer', 'product.events']);
  });

  it('refuses an admin token shorter than 32 characters and a malformed broker list', () => {
    expect(() => loadConfig({ ...base, ADMIN_TOKEN: 'short', KAFKA_BROKERS: 'no-port' })).toThrow(
      ConfigError,
    );
    try {
      loadConfig({ ...base, ADMIN_TOKEN: 'short', KAFKA_BROKERS: 'no-port' });
    } catch (err) {
      expect((err as ConfigError).issues).toEqual([
        'ADMIN_TOKEN: must be at least 32 characters',
        'KAFKA_BROKERS.0: each broker must be host:port',
      ]);
    }
  });

  it('reads the token and the brokers', () => {
    const config = loadConfig({ ...base, ADMIN_TOKEN: 'x'.repeat(32), KAFKA_BROKERS: 'a:9092,b:9092' });
    expect(config.ADMIN_TOKEN).toBe('x'.repeat(32));
    expect(config.KAFKA_BROKERS).toEqual(['a:9092', 'b:9092']);
  });
});
