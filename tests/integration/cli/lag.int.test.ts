import { Kafka, logLevel } from 'kafkajs';
import type { Admin, Producer } from 'kafkajs';
import {
  consumerGroupsDescribe,
  fixtureProducer,
  infraEnv,
  randomGroup,
  randomTopic,
} from '../../harness/index.js';
import { cliEnv, parseJson, runCli } from './cli-fixture.js';

interface LagJson {
  group: string;
  totalLag: number;
  partitions: {
    topic: string;
    partition: number;
    committedOffset: string | null;
    logEndOffset: string;
    lag: number;
    lagSeconds: number | null;
    explanation: string | null;
  }[];
}

describe('shopstream lag', () => {
  const brokers = infraEnv().kafkaBrokers;
  const topic = randomTopic('lag');
  const group = randomGroup('lag');
  const kafka = new Kafka({ clientId: 'lag-test', brokers: [brokers], logLevel: logLevel.NOTHING });
  let admin: Admin;
  let producer: Producer;
  const env = cliEnv({
    databaseUrl: 'postgres://unused@127.0.0.1:1/unused',
    brokers,
    group,
    topic,
  });
  const now = Date.now();

  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [{ topic, numPartitions: 3, replicationFactor: 1 }],
      waitForLeaders: true,
    });
    producer = fixtureProducer(kafka);
    await producer.connect();
    // Per partition: 5 messages two minutes old, then 5 thirty seconds old.
    for (const [ageMs, prefix] of [
      [120_000, 'old'],
      [30_000, 'new'],
    ] as const) {
      await producer.send({
        topic,
        acks: -1,
        messages: [0, 1, 2].flatMap((partition) =>
          Array.from({ length: 5 }, (_, i) => ({
            partition,
            key: `${prefix}-${partition}-${i}`,
            value: 'x',
            timestamp: String(now - ageMs),
          })),
        ),
      });
    }
    // Partition 0 consumed the old half, partition 1 everything, partition 2 never committed.
    await admin.setOffsets({
      groupId: group,
      topic,
      partitions: [
        { partition: 0, offset: '5' },
        { partition: 1, offset: '10' },
      ],
    });
  });

  afterAll(async () => {
    await producer?.disconnect();
    await admin?.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin?.disconnect();
  });

  it("reports per partition the numbers kafka-consumer-groups --describe prints, and the oldest message's age", async () => {
    const result = await runCli(['lag', '--json'], env);
    expect(result.code).toBe(0);
    const lag = parseJson<LagJson>(result);
    const kafkaView = await consumerGroupsDescribe(brokers, group, topic);

    expect(lag.partitions.map((p) => p.partition)).toEqual([0, 1, 2]);
    for (const p of lag.partitions) {
      const k = kafkaView[p.partition];
      if (p.committedOffset === null) {
        // Kafka's tool lists only committed partitions of a group without members.
        expect(k === undefined || k.current === '-').toBe(true);
        continue;
      }
      expect({ current: p.committedOffset, logEnd: p.logEndOffset, lag: String(p.lag) }).toEqual(k);
    }
    expect(Object.keys(kafkaView).map(Number).sort()).toEqual([0, 1]);

    const [p0, p1, p2] = lag.partitions;
    expect(p0).toMatchObject({ committedOffset: '5', logEndOffset: '10', lag: 5, explanation: null });
    // The oldest unconsumed message of partition 0 is the first 30-second-old one, not the 2-minute-old ones.
    const elapsed = (Date.now() - now) / 1000;
    expect(p0!.lagSeconds).toBeGreaterThanOrEqual(29);
    expect(p0!.lagSeconds).toBeLessThanOrEqual(31 + elapsed);
    expect(p1).toMatchObject({ committedOffset: '10', lag: 0, lagSeconds: 0 });
    // No commit: the consumer starts at the earliest offset, so all 10 wait and the oldest is 2 minutes old.
    expect(p2).toMatchObject({ committedOffset: null, lag: 10 });
    expect(p2!.lagSeconds).toBeGreaterThanOrEqual(119);
    expect(p2!.explanation).toBe(
      'no committed offset: starting from the earliest offset, 10 message(s) to consume',
    );
    expect(lag.totalLag).toBe(15);
  });

  it('prints a table with Kafka-style columns and the sentence for the uncommitted partition', async () => {
    const result = await runCli(['lag', '--group', group, '--topic', topic], {
      ...env,
      CONSUMER_GROUP_ID: 'someone-else',
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^group ${group}: 15 message\\(s\\) behind`));
    expect(result.stdout).toMatch(/TOPIC\s+PARTITION\s+CURRENT-OFFSET\s+LOG-END-OFFSET\s+LAG\s+LAG-SECONDS/);
    expect(result.stdout).toMatch(new RegExp(`${topic.replace(/\./g, '\\.')}\\s+2\\s+-\\s+10\\s+10\\s`));
    expect(result.stdout).toContain(`${topic}[2]: no committed offset`);
  });

  it('says when the topic does not exist or Kafka cannot be reached (exit 1)', async () => {
    const missing = await runCli(['lag', '--topic', `${topic}.missing`], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/topic .*\.missing does not exist/);
    const down = await runCli(['lag'], { ...env, KAFKA_BROKERS: '127.0.0.1:1' });
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/cannot reach Kafka at 127\.0\.0\.1:1/);
    expect(down.stderr).not.toMatch(/\n\s+at /);
  });
});
