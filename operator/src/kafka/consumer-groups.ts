import { Kafka, logLevel } from 'kafkajs';
import type { Admin } from 'kafkajs';
import { describeLag } from '@shopstream/shared';
import type { PartitionReset, ResetTarget } from '../controllers/pipeline-types.js';
import { planOffsetReset } from './offset-plan.js';

export interface GroupDescription {
  /** Kafka's group state: Empty, Stable, PreparingRebalance, CompletingRebalance, Dead (no group). */
  state: string;
  members: { clientId: string; clientHost: string }[];
  /** Messages between the group's committed offsets and the log ends of `topics`. */
  lag: number;
}

/**
 * A consumer group seen through the Kafka admin API: its state and lag (the numbers
 * kafka-consumer-groups --describe prints), reset plans and offset writes. One admin connection,
 * opened on first use, per reconcile.
 */
export class ConsumerGroupAdmin {
  private readonly admin: Admin;
  private connected = false;

  constructor(bootstrapServers: string) {
    this.admin = new Kafka({
      clientId: 'shopstream-operator',
      brokers: bootstrapServers.split(',').map((b) => b.trim()),
      logLevel: logLevel.NOTHING,
      retry: { retries: 2 },
    }).admin();
  }

  private async ready(): Promise<Admin> {
    if (!this.connected) {
      await this.admin.connect();
      this.connected = true;
    }
    return this.admin;
  }

  async describe(groupId: string, topics: string[]): Promise<GroupDescription> {
    const admin = await this.ready();
    const { groups } = await admin.describeGroups([groupId]);
    const group = groups[0];
    let lag = 0;
    for (const topic of topics) {
      // The consumer's default start (earliest) decides where a group without a commit resumes.
      for (const p of await describeLag(admin, groupId, topic, 'earliest')) lag += p.lag;
    }
    return {
      state: group?.state ?? 'Dead',
      members: (group?.members ?? []).map((m) => ({ clientId: m.clientId, clientHost: m.clientHost })),
      lag,
    };
  }

  plan(groupId: string, topics: string[], target: ResetTarget, now?: Date): Promise<PartitionReset[]> {
    return this.ready().then((admin) => planOffsetReset(admin, groupId, topics, target, now));
  }

  /**
   * Commits the planned (concrete) offsets for the group, which must have no members, and reads
   * them back: a write Kafka did not keep is an error, not a success.
   */
  async commit(groupId: string, plan: PartitionReset[]): Promise<void> {
    const admin = await this.ready();
    const byTopic = new Map<string, PartitionReset[]>();
    for (const p of plan) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p]);
    for (const [topic, partitions] of byTopic) {
      await admin.setOffsets({
        groupId,
        topic,
        partitions: partitions.map((p) => ({ partition: p.partition, offset: p.newOffset })),
      });
    }
    const stored = await admin.fetchOffsets({ groupId, topics: [...byTopic.keys()] });
    for (const p of plan) {
      const now = stored
        .find((t) => t.topic === p.topic)
        ?.partitions.find((x) => x.partition === p.partition);
      if (now?.offset !== p.newOffset) {
        throw new Error(
          `offset of ${p.topic}[${p.partition}] for group ${groupId} reads ${now?.offset ?? 'nothing'} after writing ${p.newOffset}`,
        );
      }
    }
  }

  async close(): Promise<void> {
    if (this.connected) await this.admin.disconnect();
    this.connected = false;
  }
}
