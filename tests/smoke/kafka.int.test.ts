import { Kafka, Partitioners, logLevel } from 'kafkajs';
import { KafkaTool, infraEnv, randomGroup, randomTopic, runKafkaTool, waitFor } from '../harness/index.js';

describe('local Kafka', () => {
  // kafkajs logs retriable start-up errors (coordinator loading) at ERROR; the assertions say what matters.
  const kafka = new Kafka({
    clientId: 'smoke',
    brokers: [infraEnv().kafkaBrokers],
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  const topic = randomTopic('smoke');

  beforeAll(() => admin.connect());
  afterAll(async () => {
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });

  it('round-trips keyed messages through kafkajs, and Kafka’s own TopicCommand sees the topic', async () => {
    await admin.createTopics({
      topics: [{ topic, numPartitions: 3, replicationFactor: 1 }],
      waitForLeaders: true,
    });

    const producer = kafka.producer({ idempotent: true, createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const sent = Array.from({ length: 30 }, (_, i) => ({ key: `product-${i % 7}`, value: `event-${i}` }));
    await producer.send({ topic, acks: -1, messages: sent });
    await producer.disconnect();

    const received: { key: string; value: string; partition: number }[] = [];
    const consumer = kafka.consumer({ groupId: randomGroup('smoke') });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message, partition }) => {
        received.push({ key: String(message.key), value: String(message.value), partition });
      },
    });
    await waitFor(() => received.length >= sent.length, {
      description: '30 messages consumed',
      timeoutMs: 60_000,
    });
    await consumer.disconnect();

    expect(received.map((m) => m.value).sort()).toEqual(sent.map((m) => m.value).sort());
    // Same key, same partition: the property per-product ordering rests on.
    const partitionOfKey = new Map<string, Set<number>>();
    for (const m of received)
      partitionOfKey.set(m.key, (partitionOfKey.get(m.key) ?? new Set()).add(m.partition));
    for (const partitions of partitionOfKey.values()) expect(partitions.size).toBe(1);

    const described = await runKafkaTool(KafkaTool.topics, [
      '--bootstrap-server',
      infraEnv().kafkaBrokers,
      '--describe',
      '--topic',
      topic,
    ]);
    expect(described).toMatch(
      new RegExp(`Topic: ${topic.replace('.', '\\.')}\\s+TopicId: \\S+\\s+PartitionCount: 3`),
    );
  });
});
