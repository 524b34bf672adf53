import { Kafka, logLevel } from 'kafkajs';
import type { Admin, Consumer, Producer } from 'kafkajs';
import {
  consumerGroupsCommitted,
  consumerGroupsDryRun,
  fixtureProducer,
  infraEnv,
  randomGroup,
  randomTopic,
  waitFor,
} from '../../harness/index.js';
import { cliEnv, parseJson, runCli } from './cli-fixture.js';

interface PlanJson {
  group: string;
  topic: string;
  executed: boolean;
  partitions: { topic: string; partition: number; oldOffset: string | null; newOffset: string }[];
}

const byPartition = (plan: PlanJson): Record<number, string> =>
  Object.fromEntries(plan.partitions.map((p) => [p.partition, p.newOffset]));

describe('shopstream reset-offsets', () => {
  const brokers = infraEnv().kafkaBrokers;
  const topic = randomTopic('reset');
  const group = randomGroup('reset');
  const kafka = new Kafka({ clientId: 'reset-test', brokers: [brokers], logLevel: logLevel.NOTHING });
  const env = cliEnv({ databaseUrl: 'postgres://unused@127.0.0.1:1/unused', brokers });
  let admin: Admin;
  let producer: Producer;
  const now = Date.now();
  const hour = 3600_000;
  const reset = (...args: string[]): ReturnType<typeof runCli> =>
    runCli(['reset-offsets', '--group', group, '--topic', topic, ...args], env);
  const committed = async (): Promise<Record<number, string>> => {
    const [t] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    return Object.fromEntries(t!.partitions.map((p) => [p.partition, p.offset]));
  };

  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [{ topic, numPartitions: 3, replicationFactor: 1 }],
      waitForLeaders: true,
    });
    producer = fixtureProducer(kafka);
    await producer.connect();
    // Per partition, 4 messages from each of three hours ago, two hours ago and one hour ago:
    // offsets 0-3, 4-7, 8-11, so time targets land on distinct offsets.
    for (const hoursAgo of [3, 2, 1]) {
      await producer.send({
        topic,
        acks: -1,
        messages: [0, 1, 2].flatMap((partition) =>
          Array.from({ length: 4 }, (_, i) => ({
            partition,
            value: `${hoursAgo}h-${i}`,
            timestamp: String(now - hoursAgo * hour + i),
          })),
        ),
      });
    }
    await admin.setOffsets({
      groupId: group,
      topic,
      partitions: [
        { partition: 0, offset: '10' },
        { partition: 1, offset: '6' },
        { partition: 2, offset: '1' },
      ],
    });
  });

  afterAll(async () => {
    await producer?.disconnect();
    await admin?.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin?.disconnect();
  });

  describe('while a consumer is a member of the group', () => {
    let member: Consumer;
    beforeAll(async () => {
      member = new Kafka({
        clientId: 'busy-consumer',
        brokers: [brokers],
        logLevel: logLevel.NOTHING,
      }).consumer({
        groupId: group,
      });
      await member.connect();
      await member.subscribe({ topic });
      // It never commits, so the offsets the refusal must leave alone stay where the test put them.
      await member.run({ autoCommit: false, eachMessage: async () => undefined });
      await waitFor(async () => (await admin.describeGroups([group])).groups[0]?.state === 'Stable', {
        description: 'the member to join the group',
      });
    });
    afterAll(async () => {
      await member?.disconnect();
      await waitFor(async () => (await admin.describeGroups([group])).groups[0]?.state === 'Empty', {
        description: 'the group to be empty again',
      });
    });

    it('refuses, dry run or not, naming the member, and changes nothing', async () => {
      for (const args of [['--to-earliest', '--execute'], ['--to-earliest']]) {
        const result = await reset(...args);
        expect(result.code).toBe(1);
        expect(result.stderr).toMatch(
          new RegExp(`consumer group ${group} is Stable with 1 active member\\(s\\): busy-consumer`),
        );
        expect(result.stderr).toMatch(/Offsets can only be reset while the group has no members/);
      }
      expect(await committed()).toEqual({ 0: '10', 1: '6', 2: '1' });
    });
  });

  describe('with no members', () => {
    it("plans --to-datetime exactly as kafka-consumer-groups' dry run does, changing nothing", async () => {
      const at = new Date(now - 2 * hour + 2).toISOString();
      const result = await reset('--to-datetime', at, '--json');
      expect(result.code).toBe(0);
      const plan = parseJson<PlanJson>(result);
      expect(plan).toMatchObject({ group, topic, executed: false });
      expect(byPartition(plan)).toEqual({ 0: '6', 1: '6', 2: '6' });
      expect(byPartition(plan)).toEqual(
        await consumerGroupsDryRun(brokers, group, topic, ['--to-datetime', at]),
      );
      expect(plan.partitions.map((p) => p.oldOffset)).toEqual(['10', '6', '1']);
      expect(await committed()).toEqual({ 0: '10', 1: '6', 2: '1' });
    });

    it('plans --shift-by (both ways, clamped to the log) as Kafka does', async () => {
      for (const shift of ['-3', '5']) {
        const plan = parseJson<PlanJson>(await reset('--shift-by', shift, '--json'));
        expect(byPartition(plan)).toEqual(
          await consumerGroupsDryRun(brokers, group, topic, ['--shift-by', shift]),
        );
      }
      const back = parseJson<PlanJson>(await reset('--shift-by', '-3', '--json'));
      expect(byPartition(back)).toEqual({ 0: '7', 1: '3', 2: '0' });
      const forward = parseJson<PlanJson>(await reset('--shift-by', '5', '--json'));
      expect(byPartition(forward)).toEqual({ 0: '12', 1: '11', 2: '6' });
    });

    it('plans --by-duration, --to-earliest, --to-latest and --to-offset like Kafka', async () => {
      for (const args of [
        ['--by-duration', 'PT90M'],
        ['--to-earliest'],
        ['--to-latest'],
        ['--to-offset', '7'],
      ]) {
        const plan = parseJson<PlanJson>(await reset(...args, '--json'));
        expect({ args, plan: byPartition(plan) }).toEqual({
          args,
          plan: await consumerGroupsDryRun(brokers, group, topic, args),
        });
      }
    });

    it('prints the plan as TOPIC PARTITION OLD NEW in plain text', async () => {
      const result = await reset('--to-earliest');
      expect(result.code).toBe(0);
      const lines = result.stdout.split('\n');
      expect(lines[0]).toMatch(/^TOPIC\s+PARTITION\s+OLD\s+NEW$/);
      expect(lines[1]).toMatch(new RegExp(`^${topic.replace(/\./g, '\\.')}\\s+0\\s+10\\s+0$`));
      expect(result.stdout).toMatch(/dry run: nothing changed; add --execute/);
    });

    it('--execute moves the committed offsets to exactly the planned ones', async () => {
      const at = new Date(now - 3 * hour + 2).toISOString();
      const dry = byPartition(parseJson<PlanJson>(await reset('--to-datetime', at, '--json')));
      const result = await reset('--to-datetime', at, '--execute', '--json');
      expect(result.code).toBe(0);
      const plan = parseJson<PlanJson>(result);
      expect(plan.executed).toBe(true);
      expect(byPartition(plan)).toEqual(dry);
      expect(byPartition(plan)).toEqual({ 0: '2', 1: '2', 2: '2' });
      expect(await consumerGroupsCommitted(brokers, group, topic)).toEqual(byPartition(plan));
    });

    it('refuses bad usage with exit 2 and changes nothing', async () => {
      const before = await committed();
      const cases: [string[], RegExp][] = [
        [[], /name one target/],
        [['--to-earliest', '--to-latest'], /exactly one target, not --to-earliest and --to-latest/],
        [['--to-datetime', 'yesterday', '--execute'], /RFC 3339/],
        [['--to-datetime', '2026-01-31T12:00:00', '--execute'], /RFC 3339/],
        [['--by-duration', 'P1M', '--execute'], /ISO 8601 duration/],
        [['--shift-by', 'two', '--execute'], /--shift-by needs an integer/],
        [['--to-offset', '-1', '--execute'], /non-negative integer/],
      ];
      for (const [args, message] of cases) {
        const result = await reset(...args);
        expect({ args, code: result.code }).toEqual({ args, code: 2 });
        expect(result.stderr).toMatch(message);
      }
      const noGroup = await runCli(['reset-offsets', '--topic', topic, '--to-earliest'], env);
      expect(noGroup.code).toBe(2);
      expect(await committed()).toEqual(before);
    });

    it('says when the topic does not exist (exit 1)', async () => {
      const result = await runCli(
        ['reset-offsets', '--group', group, '--topic', `${topic}.missing`, '--to-earliest'],
        env,
      );
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/topic .*\.missing does not exist/);
    });
  });
});
