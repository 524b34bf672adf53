import { Kafka, logLevel } from 'kafkajs';
import { planOffsetReset } from '@shopstream/operator';
import type { ResetTarget } from '@shopstream/operator';
import {
  consumerGroupsDryRun,
  fixtureProducer,
  infraEnv,
  randomGroup,
  randomTopic,
} from '../../harness/index.js';

describe('planOffsetReset', () => {
  const brokers = infraEnv().kafkaBrokers;
  const kafka = new Kafka({ clientId: 'offset-plan', brokers: [brokers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const topic = randomTopic('reset');
  const group = randomGroup('reset');
  const base = Date.now() - 3_600_000; // message i of each partition is stamped base + i seconds

  beforeAll(async () => {
    await admin.connect();
    await admin.createTopics({
      topics: [{ topic, numPartitions: 2, replicationFactor: 1 }],
      waitForLeaders: true,
    });
    const producer = fixtureProducer(kafka);
    await producer.connect();
    for (const partition of [0, 1]) {
      await producer.send({
        topic,
        acks: -1,
        messages: Array.from({ length: 10 }, (_, i) => ({
          partition,
          value: `m${i}`,
          timestamp: String(base + i * 1000),
        })),
      });
    }
    await producer.disconnect();
    await admin.setOffsets({
      groupId: group,
      topic,
      partitions: [
        { partition: 0, offset: '7' },
        { partition: 1, offset: '3' },
      ],
    });
  });
  afterAll(async () => {
    await admin.deleteGroups([group]).catch(() => undefined);
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });

  const kafkaDryRun = (args: string[]) => consumerGroupsDryRun(brokers, group, topic, args);
  const ours = async (target: ResetTarget) =>
    Object.fromEntries(
      (await planOffsetReset(admin, group, [topic], target)).map((p) => [p.partition, p.newOffset]),
    );

  it('lands on the offsets Kafka’s own tool computes for a datetime', async () => {
    const at = new Date(base + 4500).toISOString(); // between messages 4 and 5
    expect(await ours({ datetime: at })).toEqual(
      await kafkaDryRun(['--to-datetime', at.replace('Z', '+00:00')]),
    );
    expect(await ours({ datetime: at })).toEqual({ 0: '5', 1: '5' });
  });

  it('lands on the offsets Kafka’s own tool computes for shiftBy, clamped to the log', async () => {
    expect(await ours({ shiftBy: -2 })).toEqual(await kafkaDryRun(['--shift-by', '-2']));
    expect(await ours({ shiftBy: -2 })).toEqual({ 0: '5', 1: '1' });
    expect(await ours({ shiftBy: 50 })).toEqual(await kafkaDryRun(['--shift-by', '50']));
  });

  it('resolves earliest, latest and a per-partition offset to concrete numbers, and reports the old ones', async () => {
    expect(await ours({ earliest: true })).toEqual(await kafkaDryRun(['--to-earliest']));
    expect(await ours({ latest: true })).toEqual({ 0: '10', 1: '10' });
    const plan = await planOffsetReset(admin, group, [topic], { offset: 99 });
    expect(plan).toEqual([
      { topic, partition: 0, oldOffset: '7', newOffset: '10' },
      { topic, partition: 1, oldOffset: '3', newOffset: '10' },
    ]);
  });
});
