import { Kafka, logLevel } from 'kafkajs';
import { ConsumerGroupAdmin, ResetRefusedError } from '@shopstream/operator';
import {
  consumerGroupsCommitted,
  fixtureProducer,
  infraEnv,
  randomGroup,
  randomTopic,
} from '../../harness/index.js';

/**
 * DESIGN §9 "operator loses leadership mid-reset / restarts — never a reset applied twice": the
 * offset commit compares before it writes, against the real broker. A plan already applied is not
 * applied again; offsets another writer moved since the plan was fixed are not overwritten.
 */
describe('ConsumerGroupAdmin.commit: compare, then write', () => {
  const brokers = infraEnv().kafkaBrokers;
  const kafka = new Kafka({ clientId: 'offset-commit', brokers: [brokers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const topic = randomTopic('commit');
  const groups = new ConsumerGroupAdmin(brokers);
  const set = (groupId: string, offsets: [string, string]) =>
    admin.setOffsets({
      groupId,
      topic,
      partitions: offsets.map((offset, partition) => ({ partition, offset })),
    });

  beforeAll(async () => {
    await admin.connect();
    await admin.createTopics({
      topics: [{ topic, numPartitions: 2, replicationFactor: 1 }],
      waitForLeaders: true,
    });
    const producer = fixtureProducer(kafka);
    await producer.connect();
    await producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: 20 }, (_, i) => ({ partition: i % 2, value: `m${i}` })),
    });
    await producer.disconnect();
  });
  afterAll(async () => {
    await groups.close();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });

  it('a shiftBy plan replayed after it was applied (a lost status write) leaves the offsets where the first commit put them', async () => {
    const group = randomGroup('commit');
    await set(group, ['10', '8']);
    const plan = await groups.plan(group, [topic], { shiftBy: -4 });
    expect(plan.map((p) => [p.oldOffset, p.newOffset])).toEqual([
      ['10', '6'],
      ['8', '4'],
    ]);
    await groups.commit(group, plan);
    expect(await consumerGroupsCommitted(brokers, group, topic)).toEqual({ 0: '6', 1: '4' });
    await groups.commit(group, plan); // a new leader replaying the stored plan
    expect(await consumerGroupsCommitted(brokers, group, topic)).toEqual({ 0: '6', 1: '4' });
  });

  it('finishes a commit that stopped part-way, and refuses to overwrite offsets someone else moved', async () => {
    const group = randomGroup('commit');
    await set(group, ['10', '8']);
    const plan = await groups.plan(group, [topic], { earliest: true });
    // Part-way: partition 0 written, partition 1 still at its old offset.
    await set(group, ['0', '8']);
    await groups.commit(group, plan);
    expect(await consumerGroupsCommitted(brokers, group, topic)).toEqual({ 0: '0', 1: '0' });

    const other = randomGroup('commit');
    await set(other, ['10', '8']);
    const fixed = await groups.plan(other, [topic], { earliest: true });
    await set(other, ['10', '9']); // a consumer (or a stale leader) committed after the plan was fixed
    const refused = await groups.commit(other, fixed).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(ResetRefusedError);
    expect(refused).toMatchObject({ reason: 'OffsetsMoved' });
    expect((refused as Error).message).toContain(`${topic}[1] at 9, planned from 8`);
    expect(await consumerGroupsCommitted(brokers, other, topic)).toEqual({ 0: '10', 1: '9' });
  });
});
