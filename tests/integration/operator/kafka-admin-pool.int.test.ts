import { ConsumerGroupAdmin, DirectTopicAdmin, KafkaAdminPool } from '@shopstream/operator';
import { infraEnv, randomGroup, randomTopic } from '../../harness/index.js';

/** The operator's Kafka admin clients against the real broker: one per bootstrap string, kept, replaced after an error. */
describe('KafkaAdminPool', () => {
  const brokers = infraEnv().kafkaBrokers;
  const topic = randomTopic('pool');

  it('serves every reconcile on one bootstrap string from one connected client, across closes', async () => {
    const connects: string[] = [];
    const pool = new KafkaAdminPool({ onConnect: (b) => connects.push(b) });
    try {
      const topics = new DirectTopicAdmin(pool.handle(brokers));
      expect(await topics.ensureTopic({ name: topic, partitions: 1 })).toMatchObject({ ready: true });
      await topics.close();
      for (let i = 0; i < 5; i++) {
        const groups = new ConsumerGroupAdmin(pool.handle(` ${brokers} `)); // the same string, spaced
        expect((await groups.describe(randomGroup('pool'), [topic])).state).toBe('Dead');
        await groups.close();
      }
      expect(connects).toEqual([brokers]);
      expect(pool.size).toBe(1);
      await new DirectTopicAdmin(pool.handle(brokers)).deleteTopic(topic);
    } finally {
      await pool.close();
    }
    expect(pool.size).toBe(0);
  });

  it('drops a client whose request failed, and keeps none for a bootstrap string it cannot reach', async () => {
    const connects: string[] = [];
    const pool = new KafkaAdminPool({ onConnect: (b) => connects.push(b) });
    try {
      const groups = new ConsumerGroupAdmin(pool.handle(brokers));
      await groups.describe(randomGroup('pool'), []);
      // A failed request (a topic name Kafka refuses) marks the client as not to be reused.
      await expect(groups.describe(randomGroup('pool'), ['bad name with spaces'])).rejects.toThrow();
      await groups.close();
      expect(pool.size).toBe(0);
      const again = new ConsumerGroupAdmin(pool.handle(brokers));
      await again.describe(randomGroup('pool'), []);
      await again.close();
      expect(connects).toEqual([brokers, brokers]);

      const unreachable = new DirectTopicAdmin(pool.handle('127.0.0.1:1'));
      await expect(unreachable.ensureTopic({ name: topic, partitions: 1 })).rejects.toMatchObject({
        reason: 'KafkaUnavailable',
      });
      await unreachable.close();
      expect(pool.size).toBe(1); // only the reachable one
    } finally {
      await pool.close();
    }
  });

  it('disconnects a client no reconcile used for the idle time, at the next use of the pool', async () => {
    let nowMs = 0;
    const connects: string[] = [];
    const pool = new KafkaAdminPool({ idleMs: 60_000, now: () => nowMs, onConnect: (b) => connects.push(b) });
    try {
      const first = new ConsumerGroupAdmin(pool.handle(brokers));
      await first.describe(randomGroup('pool'), []);
      await first.close();
      nowMs += 61_000;
      const later = new ConsumerGroupAdmin(pool.handle(brokers));
      await later.describe(randomGroup('pool'), []);
      await later.close();
      expect(connects).toEqual([brokers, brokers]);
      expect(pool.size).toBe(1);
    } finally {
      await pool.close();
    }
  });
});
