import { ConfigError } from '@shopstream/shared';
import { loadConfig } from './config.js';

const base = { DATABASE_URL: 'postgres://app@127.0.0.1:55432/shop', KAFKA_BROKERS: '127.0.0.1:59092' };

describe('the consumer config', () => {
  it('looks for missing topics every 5 s unless told otherwise, and names the DLQ after the topic', () => {
    const config = loadConfig({ ...base, CONSUMER_TOPIC: 'orders' });
    expect(config.CONSUMER_TOPIC_WAIT_INTERVAL_MS).toBe(5_000);
    expect(config.CONSUMER_DLQ_TOPIC).toBe('orders.dlq');
    expect(
      loadConfig({ ...base, CONSUMER_TOPIC_WAIT_INTERVAL_MS: '250' }).CONSUMER_TOPIC_WAIT_INTERVAL_MS,
    ).toBe(250);
  });

  it.each(['99', '1.5', 'soon'])('refuses CONSUMER_TOPIC_WAIT_INTERVAL_MS=%s', (value) => {
    expect(() => loadConfig({ ...base, CONSUMER_TOPIC_WAIT_INTERVAL_MS: value })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, CONSUMER_TOPIC_WAIT_INTERVAL_MS: value })).toThrow(
      /CONSUMER_TOPIC_WAIT_INTERVAL_MS/,
    );
  });
});
