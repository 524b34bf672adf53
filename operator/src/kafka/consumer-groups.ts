import type { Admin } from 'kafkajs';
import { describeLag } from '@shopstream/shared';
import { OffsetCommitError, ResetRefusedError } from '../controllers/errors.js';
import type { PartitionReset, ResetTarget } from '../controllers/pipeline-types.js';
import { privateAdmin } from './admin-pool.js';
import type { AdminHandle } from './admin-pool.js';
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
 * kafka-consumer-groups --describe prints), reset plans and offset writes. The admin client is
 * opened on first use: the pool's shared one in the operator, one of its own in the CLI.
 */
export class ConsumerGroupAdmin {
  private readonly handle: AdminHandle;

  /**
   * `kafka`: a bootstrap string (a client of its own) or a handle from the operator's pool.
   * `commitTimeoutMs`: how long one topic's offset write may take (see withCommitDeadline).
   */
  constructor(
    kafka: string | AdminHandle,
    private readonly commitTimeoutMs = OFFSET_COMMIT_TIMEOUT_MS,
  ) {
    this.handle = typeof kafka === 'string' ? privateAdmin(kafka) : kafka;
  }

  private async ready(): Promise<Admin> {
    return this.handle.get();
  }

  describe(groupId: string, topics: string[]): Promise<GroupDescription> {
    return this.handle.track(() => this.describeGroup(groupId, topics), isRefusal);
  }

  private async describeGroup(groupId: string, topics: string[]): Promise<GroupDescription> {
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

  /**
   * The reset plan, which is also its validation: every topic exists, the target fits them, and
   * Kafka lets the operator read the group and the topics. Refusals are ResetRefusedError (or
   * RangeError for the target); anything else is an error worth retrying.
   */
  plan(groupId: string, topics: string[], target: ResetTarget, now?: Date): Promise<PartitionReset[]> {
    return this.handle.track(() => this.planReset(groupId, topics, target, now), isRefusal);
  }

  private async planReset(
    groupId: string,
    topics: string[],
    target: ResetTarget,
    now?: Date,
  ): Promise<PartitionReset[]> {
    const admin = await this.ready();
    return refuseDenials(async () => {
      const existing = new Set(await admin.listTopics());
      const missing = topics.filter((t) => !existing.has(t));
      if (missing.length)
        throw new ResetRefusedError('TopicNotFound', `topic(s) ${missing.join(', ')} do not exist`);
      return planOffsetReset(admin, groupId, topics, target, now);
    });
  }

  /**
   * Commits the planned (concrete) offsets for the group, which must have no members, and reads
   * them back: a write Kafka did not keep is an error, not a success. Compare, then write: a
   * partition already at its planned offset is done (a retry after a lost status write); one at
   * neither its planned nor its old offset means another writer was here since the plan was fixed
   * (a leader that lost the lease, or consumers that ran), so nothing is written (ResetRefusedError
   * OffsetsMoved). One that stops part-way says exactly which partitions hold their planned offset.
   */
  commit(groupId: string, plan: PartitionReset[]): Promise<void> {
    return this.handle.track(() => this.commitPlan(groupId, plan), isRefusal);
  }

  private async commitPlan(groupId: string, plan: PartitionReset[]): Promise<void> {
    const admin = await this.ready();
    const before = await refuseDenials(() => this.committed(groupId, plan));
    const done = plan.filter((p) => before.get(key(p)) === p.newOffset);
    const moved = plan.filter((p) => !done.includes(p) && before.get(key(p)) !== (p.oldOffset ?? null));
    if (moved.length) {
      const where = moved
        .map((p) => `${key(p)} at ${before.get(key(p)) ?? '-'}, planned from ${p.oldOffset ?? '-'}`)
        .join(', ');
      throw new ResetRefusedError(
        'OffsetsMoved',
        `offsets of group ${groupId} moved since the plan was fixed (${where}); nothing written`,
        { written: done },
      );
    }
    const byTopic = new Map<string, PartitionReset[]>();
    for (const p of plan.filter((x) => !done.includes(x)))
      byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p]);
    const confirmed: PartitionReset[] = [...done];
    try {
      await refuseDenials(async () => {
        for (const [topic, partitions] of byTopic) {
          await withCommitDeadline(
            admin.setOffsets({
              groupId,
              topic,
              partitions: partitions.map((p) => ({ partition: p.partition, offset: p.newOffset })),
            }),
            this.commitTimeoutMs,
            `writing offsets of group ${groupId} on ${topic}`,
            `Read on group ${groupId} and on topic ${topic}`,
          );
          confirmed.push(...partitions);
        }
      });
    } catch (err) {
      // The topic whose write failed may have been written anyway (an ack lost): ask Kafka.
      const written = await this.holding(groupId, plan).catch(() => confirmed);
      if (err instanceof ResetRefusedError) throw err;
      throw new OffsetCommitError(
        written,
        `writing offsets of group ${groupId} failed: ${(err as Error).message}`,
        { cause: err },
      );
    }
    const written = await this.holding(groupId, plan);
    const missed = plan.filter((p) => !written.includes(p));
    if (missed.length) {
      throw new OffsetCommitError(
        written,
        `offsets of ${missed.map(key).join(', ')} for group ${groupId} do not read back as written`,
      );
    }
  }

  /** The group's committed offset of each partition in `plan` (null: none). */
  private async committed(groupId: string, plan: PartitionReset[]): Promise<Map<string, string | null>> {
    const admin = await this.ready();
    const topics = [...new Set(plan.map((p) => p.topic))];
    const stored = await admin.fetchOffsets({ groupId, topics });
    const offsets = new Map<string, string | null>();
    for (const t of stored)
      for (const p of t.partitions)
        offsets.set(key({ topic: t.topic, partition: p.partition }), Number(p.offset) >= 0 ? p.offset : null);
    return offsets;
  }

  /** The partitions of `plan` whose committed offset is the planned one. */
  private async holding(groupId: string, plan: PartitionReset[]): Promise<PartitionReset[]> {
    const now = await this.committed(groupId, plan);
    return plan.filter((p) => now.get(key(p)) === p.newOffset);
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

/** How long one topic's offset write may take before the reset counts it as failed. */
export const OFFSET_COMMIT_TIMEOUT_MS = 30_000;

/**
 * kafkajs writes a group's offsets by joining the group with a consumer of its own, whose failures
 * never reach the caller: a broker that refuses the join (an ACL without Read on the group or the
 * topic) or a coordinator that never answers leaves admin.setOffsets pending for ever, and with it
 * the reconcile — and the consumers the reset holds at 0. A deadline turns that into an error the
 * reset handles like any failed write (read back what was written, retry, or give up at its
 * timeout and restore the consumers).
 */
async function withCommitDeadline<T>(
  work: Promise<T>,
  timeoutMs: number,
  what: string,
  needs: string,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new Error(
                `${what} did not finish within ${timeoutMs} ms: Kafka may be refusing the group join the write needs (${needs}) or its group coordinator is not answering`,
              ),
            ),
          timeoutMs,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Kafka refusing a reset, or a target that does not fit: no reason to distrust the client. */
const isRefusal = (err: unknown): boolean => err instanceof ResetRefusedError || err instanceof RangeError;

const key = (p: { topic: string; partition: number }): string => `${p.topic}[${p.partition}]`;

const DENIALS = new Set([
  'TOPIC_AUTHORIZATION_FAILED',
  'GROUP_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
]);

/** Kafka's ACL denials are refusals (no retry fixes them); other errors pass through unchanged. */
async function refuseDenials<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    const type = (err as { type?: string }).type;
    if (type && DENIALS.has(type))
      throw new ResetRefusedError('Forbidden', `Kafka denied it: ${type} (${(err as Error).message})`, {
        cause: err,
      });
    throw err;
  }
}
