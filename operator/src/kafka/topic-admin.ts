import type { Admin } from 'kafkajs';
import { kafkaUnavailable, partitionDecrease } from '../controllers/errors.js';
import type { TopicSpec, TopicStatus } from '../controllers/pipeline-types.js';
import { privateAdmin } from './admin-pool.js';
import type { AdminHandle } from './admin-pool.js';

/**
 * Topics through the Kafka admin API (topicManagement: Direct): create, increase partitions, set
 * configs. It never decreases partitions and never touches a topic it was not asked about.
 */
export class DirectTopicAdmin {
  private readonly handle: AdminHandle;
  private admin!: Admin;

  /** `kafka`: a bootstrap string (a client of its own) or a handle from the operator's pool. */
  constructor(kafka: string | AdminHandle) {
    this.handle = typeof kafka === 'string' ? privateAdmin(kafka) : kafka;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }

  private async ready(): Promise<void> {
    this.admin = await this.handle.get();
  }

  /**
   * Brings `topic` to its spec; idempotent ("already there" is success).
   * @throws ReconcileError KafkaUnavailable (retried) or PartitionDecreaseRefused (terminal).
   */
  async ensureTopic(topic: TopicSpec): Promise<TopicStatus> {
    try {
      return await this.handle.track(() => this.bringToSpec(topic), hasReason);
    } catch (err) {
      if (hasReason(err)) throw err;
      throw kafkaUnavailable(`topic ${topic.name}: ${(err as Error).message}`, err);
    }
  }

  private async bringToSpec(topic: TopicSpec): Promise<TopicStatus> {
    await this.ready();
    const existing = await this.describe(topic.name);
    if (!existing) {
      await this.admin.createTopics({
        waitForLeaders: true,
        topics: [
          {
            topic: topic.name,
            numPartitions: topic.partitions,
            // -1: the broker's default.replication.factor (CreateTopics v4+, Kafka ≥ 2.4).
            replicationFactor: topic.replicas ?? -1,
            configEntries: Object.entries(topic.config ?? {}).map(([name, value]) => ({ name, value })),
          },
        ],
      });
    } else {
      if (existing.partitions > topic.partitions) {
        throw partitionDecrease(
          `topic ${topic.name} has ${existing.partitions} partitions; the spec asks for ${topic.partitions} and Kafka cannot remove partitions`,
        );
      }
      if (existing.partitions < topic.partitions) {
        await this.admin.createPartitions({
          topicPartitions: [{ topic: topic.name, count: topic.partitions }],
        });
      }
      if (topic.config && Object.keys(topic.config).length > 0) {
        await this.admin.alterConfigs({
          validateOnly: false,
          resources: [
            {
              type: 2, // TOPIC
              name: topic.name,
              configEntries: Object.entries(topic.config).map(([name, value]) => ({ name, value })),
            },
          ],
        });
      }
    }
    const now = await this.describe(topic.name);
    return {
      name: topic.name,
      ready: now?.partitions === topic.partitions,
      partitions: now?.partitions ?? 0,
    };
  }

  async deleteTopic(name: string): Promise<void> {
    await this.handle.track(async () => {
      await this.ready();
      if (await this.describe(name)) await this.admin.deleteTopics({ topics: [name] });
    });
  }

  /** Nothing to do: a Kafka topic has no owner that could take it along. */
  async release(): Promise<void> {}

  private async describe(name: string): Promise<{ partitions: number } | undefined> {
    const topics = await this.admin.listTopics();
    if (!topics.includes(name)) return undefined;
    const meta = await this.admin.fetchTopicMetadata({ topics: [name] });
    return { partitions: meta.topics[0]?.partitions.length ?? 0 };
  }
}

/** A ReconcileError (an invalid spec, a partition decrease) is the spec's fault, not the client's. */
const hasReason = (err: unknown): boolean => Boolean((err as { reason?: string }).reason);
