import { ConsumerMetrics, describeLag } from '@shopstream/consumer';
import { KafkaTool, runKafkaTool, waitFor } from '../../harness/index.js';
import { consumerFixture, metricValue, productEvents, readModels } from './consumer-fixture.js';
import type { ConsumerFixture } from './consumer-fixture.js';

/** Kafka's own `kafka-consumer-groups --describe`: partition → [current offset, log end, lag]. */
async function kafkaDescribe(
  f: ConsumerFixture,
): Promise<Map<number, { current: string; end: string; lag: string }>> {
  const out = await runKafkaTool(KafkaTool.consumerGroups, [
    '--bootstrap-server',
    f.brokers,
    '--describe',
    '--group',
    f.group,
  ]);
  const rows = new Map<number, { current: string; end: string; lag: string }>();
  for (const line of out.split('\n')) {
    const cols = line.trim().split(/\s+/);
    if (cols[1] !== f.topic) continue;
    rows.set(Number(cols[2]), { current: cols[3]!, end: cols[4]!, lag: cols[5]! });
  }
  return rows;
}

describe('consumer offsets: where a group starts, replays, and lag', () => {
  let f: ConsumerFixture;
  beforeAll(async () => {
    f = await consumerFixture({ partitions: 3 });
  });
  afterAll(() => f.close());

  it('a new group processes the events already on the topic, and says so per partition at start-up', async () => {
    const events = productEvents(30, 2, f.topic);
    await f.produce(events);
    const consumer = await f.startConsumer();
    await waitFor(async () => (await readModels(f.sql)).inbox === events.length, {
      description: 'all 60 events applied',
    });
    expect(consumer.output()).toMatch(/"msg":"consumer start position"/);
    // Caught up: no lag in messages or seconds, once the commit and the next lag refresh happened.
    await waitFor(
      async () => {
        const m = await consumer.metrics();
        return (
          m.includes('shopstream_consumer_lag_messages{') &&
          metricValue(m, 'shopstream_consumer_lag_messages', { group: f.group }) === 0 &&
          metricValue(m, 'shopstream_consumer_lag_seconds', { group: f.group }) === 0
        );
      },
      { description: 'lag 0 in messages and seconds' },
    );
    expect(await consumer.metrics()).toMatch(
      /^shopstream_consumer_end_to_end_seconds_count\{group="[^"]+"\} 60$/m,
    );
    expect(consumer.output()).toMatch(
      /no committed offset: starting from the earliest offset, \d+ message\(s\) to consume/,
    );
    consumer.child.kill('SIGTERM');
    expect(await consumer.exited).toBe(0);
  });

  it('a group whose offsets are at the log end logs lag 0 and the exact reason', async () => {
    const consumer = await f.startConsumer();
    const lines = consumer
      .output()
      .split('\n')
      .filter((l) => l.includes('"consumer start position"'))
      .map(
        (l) =>
          JSON.parse(l) as { partition: number; lag: number; reason: string; groupId: string; topic: string },
      );
    expect(lines).toHaveLength(3);
    for (const l of lines) {
      expect(l).toMatchObject({ lag: 0, groupId: f.group, topic: f.topic });
      expect(l.reason).toMatch(/already at the log end: 0 messages to consume until new events arrive/);
    }
    consumer.child.kill('SIGTERM');
    await consumer.exited;
  });

  it('exports the same lag per partition as kafka-consumer-groups --describe while the consumer is stopped', async () => {
    await f.produce(productEvents(25, 1, f.topic));
    const metrics = new ConsumerMetrics();
    const admin = f.kafka.admin();
    await admin.connect();
    const lags = await describeLag(admin, f.group, f.topic);
    await admin.disconnect();
    // The consumer's own export path, with nothing fetched and unapplied.
    metrics.setLag(f.group, lags, () => null);
    const exported = await metrics.registry.metrics();

    const kafka = await kafkaDescribe(f);
    expect(kafka.size).toBe(3);
    let total = 0;
    for (const [partition, row] of kafka) {
      const ours = metricValue(exported, 'shopstream_consumer_lag_messages', {
        partition: String(partition),
      });
      expect(ours).toBe(Number(row.lag));
      total += ours;
    }
    expect(total).toBe(25);
  });

  it('replays from earliest after a reset with Kafka’s tool and leaves the read model unchanged', async () => {
    let consumer = await f.startConsumer();
    await waitFor(async () => (await readModels(f.sql)).inbox === 85, {
      description: 'all 85 events applied',
    });
    consumer.child.kill('SIGTERM');
    await consumer.exited;
    const before = await readModels(f.sql);

    const reset = await runKafkaTool(KafkaTool.consumerGroups, [
      '--bootstrap-server',
      f.brokers,
      '--group',
      f.group,
      '--topic',
      f.topic,
      '--reset-offsets',
      '--to-earliest',
      '--execute',
    ]);
    expect(reset).toMatch(new RegExp(`${f.topic.replace('.', '\\.')}\\s+\\d+\\s+0\\b`));
    consumer = await f.startConsumer();
    await waitFor(
      async () =>
        metricValue(await consumer.metrics(), 'shopstream_consumer_events_total', { outcome: 'duplicate' }) >=
        85,
      { description: '85 duplicates counted on replay', timeoutMs: 60_000 },
    );
    expect(await readModels(f.sql)).toEqual(before);
    consumer.child.kill('SIGTERM');
    await consumer.exited;
  });
});
