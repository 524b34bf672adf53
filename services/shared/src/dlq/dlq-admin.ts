import { Partitioners } from 'kafkajs';
import type { Admin, Kafka, Message, Producer } from 'kafkajs';
import { PartitionReader } from '../kafka/partition-reader.js';
import { matchesDlqFilter, replayMessage, toDlqEntry } from './dlq-record.js';
import type { DlqEntry, DlqFilter, DlqRecord } from './dlq-record.js';

/**
 * Why a DLQ operation could not be done, as the caller reports it: `bad-input` (a partition the
 * topic does not have, a purge offset past the log end) is the user's to fix; `not-found` (no record
 * at that offset) and `topic-missing` describe the topic as it is.
 */
export class DlqAdminError extends Error {
  constructor(
    message: string,
    readonly reason: 'bad-input' | 'not-found' | 'topic-missing',
  ) {
    super(message);
    this.name = 'DlqAdminError';
  }
}

export interface DlqPosition {
  partition: number;
  offset: string;
}

/** A partition's log start (`low`, the first offset still stored) and log end (`high`, the next offset). */
export interface DlqPartitionBounds {
  partition: number;
  low: string;
  high: string;
}

export interface DlqListResult {
  topic: string;
  partitions: DlqPartitionBounds[];
  records: DlqRecord[];
  /** More records match than the limit allowed. */
  more: boolean;
}

export interface DlqReplayReport {
  replayed: (DlqPosition & { topic: string })[];
  failed: (DlqPosition & { topic: string | null; reason: string })[];
}

/** What a purge deletes in one partition: every record below `newLow`. */
export interface DlqPurgePlan extends DlqPartitionBounds {
  newLow: string;
  deletes: number;
}

export type DlqPurgeTarget = { positions: DlqPosition[] } | { before: Date };

/** How many records one produce request of a replay carries: each is a progress step. */
export const DLQ_REPLAY_BATCH = 100;

const big = (a: string): bigint => BigInt(a);
const max = (a: string, b: string): string => (big(a) >= big(b) ? a : b);

/**
 * Reads, replays and purges a dead-letter topic: the one implementation behind `shopstream dlq`
 * and the admin page's DLQ view. Reading never joins or commits a consumer group (PartitionReader
 * fetches assigned partitions from their leaders), and only from the log start (or a timestamp's
 * offset) to the log end seen when the call began. Replays go through kafkajs's idempotent
 * producer with acks = all. Connects on first use; call `close()` when done.
 */
export class DlqAdmin {
  private readonly admin: Admin;
  private readonly reader: PartitionReader;
  private producer: Producer | undefined;
  private adminConnected: Promise<void> | undefined;

  constructor(
    private readonly kafka: Kafka,
    readonly topic: string,
  ) {
    this.admin = kafka.admin();
    this.reader = new PartitionReader(kafka, topic);
  }

  private async connectedAdmin(): Promise<Admin> {
    this.adminConnected ??= this.admin.connect();
    try {
      await this.adminConnected;
    } catch (err) {
      this.adminConnected = undefined;
      throw err;
    }
    return this.admin;
  }

  /** @throws DlqAdminError (topic-missing) when the DLQ topic does not exist. */
  async bounds(): Promise<DlqPartitionBounds[]> {
    const admin = await this.connectedAdmin();
    if (!(await admin.listTopics()).includes(this.topic)) {
      throw new DlqAdminError(`the DLQ topic ${this.topic} does not exist`, 'topic-missing');
    }
    const offsets = await admin.fetchTopicOffsets(this.topic);
    return offsets
      .map((o) => ({ partition: o.partition, low: o.low, high: o.high }))
      .sort((a, b) => a.partition - b.partition);
  }

  private partitionOf(bounds: DlqPartitionBounds[], partition: number): DlqPartitionBounds {
    const found = bounds.find((b) => b.partition === partition);
    if (!found) {
      throw new DlqAdminError(
        `the DLQ topic ${this.topic} has no partition ${partition} (it has ${bounds.length}: 0-${bounds.length - 1})`,
        'bad-input',
      );
    }
    return found;
  }

  /**
   * The records matching `filter`, by partition and offset, at most `limit` (all without one).
   * @throws DlqAdminError for a missing topic or a partition it does not have.
   */
  async entries(
    filter: DlqFilter = {},
    limit?: number,
  ): Promise<{ partitions: DlqPartitionBounds[]; entries: DlqEntry[]; more: boolean }> {
    const partitions = await this.bounds();
    const wanted =
      filter.partition === undefined ? partitions : [this.partitionOf(partitions, filter.partition)];
    const startAt = filter.since ? await this.offsetsAt(filter.since) : new Map<number, string>();
    const found: DlqEntry[] = [];
    for (const p of wanted) {
      const from = max(p.low, startAt.get(p.partition) ?? p.low);
      for await (const records of this.reader.read({ partition: p.partition, from, to: p.high })) {
        for (const raw of records) {
          const entry = toDlqEntry(raw);
          if (!matchesDlqFilter(entry.record, filter)) continue;
          if (limit !== undefined && found.length >= limit) {
            return { partitions, entries: found, more: true };
          }
          found.push(entry);
        }
      }
    }
    return { partitions, entries: found, more: false };
  }

  /** The records matching `filter` as people read them (see `entries`). */
  async list(filter: DlqFilter = {}, limit?: number): Promise<DlqListResult> {
    const { partitions, entries, more } = await this.entries(filter, limit);
    return { topic: this.topic, partitions, records: entries.map((e) => e.record), more };
  }

  /**
   * The records at `positions`, in the order given.
   * @throws DlqAdminError: bad-input for a partition the topic lacks, not-found for an offset
   * outside what the partition stores (purged, or not written yet).
   */
  async at(positions: DlqPosition[]): Promise<DlqEntry[]> {
    const partitions = await this.bounds();
    const out: DlqEntry[] = [];
    for (const position of positions) {
      const p = this.partitionOf(partitions, position.partition);
      const at = big(position.offset);
      let entry: DlqEntry | undefined;
      if (at >= big(p.low) && at < big(p.high)) {
        const to = (at + 1n).toString();
        for await (const records of this.reader.read({ partition: p.partition, from: position.offset, to })) {
          const raw = records.find((r) => r.offset === position.offset);
          if (raw) entry = toDlqEntry(raw);
        }
      }
      if (!entry) {
        const stored = big(p.low) < big(p.high) ? `offsets ${p.low}-${big(p.high) - 1n}` : 'no records';
        throw new DlqAdminError(
          `no DLQ record at ${position.partition}:${position.offset} (partition ${p.partition} of ${this.topic} holds ${stored})`,
          'not-found',
        );
      }
      out.push(entry);
    }
    return out;
  }

  /** One record, or undefined when there is none at that offset. @throws DlqAdminError (bad-input, topic-missing). */
  async show(position: DlqPosition): Promise<DlqEntry | undefined> {
    try {
      return (await this.at([position]))[0];
    } catch (err) {
      if (err instanceof DlqAdminError && err.reason === 'not-found') return undefined;
      throw err;
    }
  }

  /**
   * Sends each entry to its original topic (dlq_original_topic) with its original key, value and
   * headers minus the dlq_* ones, plus `dlq_replayed_at`, in DLQ order, `DLQ_REPLAY_BATCH` records
   * per request. A keyed record goes where the relay would put it (the default murmur2
   * partitioner); an unkeyed one to its original partition. A record without an original topic, or
   * whose request failed, is reported in `failed` and the rest go on; after a failed request the
   * producer is replaced, because kafkajs's idempotent producer keeps a stale sequence otherwise.
   */
  async replay(
    entries: DlqEntry[],
    options: { now?: () => Date; onProgress?: (done: number, report: DlqReplayReport) => void } = {},
  ): Promise<DlqReplayReport> {
    const now = options.now ?? (() => new Date());
    const report: DlqReplayReport = { replayed: [], failed: [] };
    let done = 0;
    for (let i = 0; i < entries.length; i += DLQ_REPLAY_BATCH) {
      const chunk = entries.slice(i, i + DLQ_REPLAY_BATCH);
      const byTopic = new Map<string, DlqEntry[]>();
      for (const entry of chunk) {
        const { originalTopic, partition, offset } = entry.record;
        if (!originalTopic) {
          report.failed.push({ partition, offset, topic: null, reason: 'no dlq_original_topic header' });
          continue;
        }
        byTopic.set(originalTopic, [...(byTopic.get(originalTopic) ?? []), entry]);
      }
      for (const [topic, group] of byTopic) {
        const replayedAt = now();
        const messages: Message[] = group.map((entry) => {
          const message = replayMessage(entry.raw, replayedAt);
          const partition = entry.record.originalPartition;
          return message.key === null && partition !== null ? { ...message, partition } : message;
        });
        try {
          const producer = await this.connectedProducer();
          await producer.send({ topic, acks: -1, messages });
          for (const e of group) {
            report.replayed.push({ partition: e.record.partition, offset: e.record.offset, topic });
          }
        } catch (err) {
          await this.dropProducer();
          const reason = err instanceof Error ? err.message : String(err);
          for (const e of group) {
            report.failed.push({ partition: e.record.partition, offset: e.record.offset, topic, reason });
          }
        }
      }
      done += chunk.length;
      options.onProgress?.(done, report);
    }
    return report;
  }

  private async connectedProducer(): Promise<Producer> {
    if (this.producer) return this.producer;
    const producer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    this.producer = producer;
    return producer;
  }

  private async dropProducer(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    await producer?.disconnect().catch(() => undefined);
  }

  /** First offset per partition whose timestamp is at or after `time` (the log end when none is). */
  private async offsetsAt(time: Date): Promise<Map<number, string>> {
    const admin = await this.connectedAdmin();
    const offsets = await admin.fetchTopicOffsetsByTimestamp(this.topic, time.getTime());
    return new Map(offsets.map((o) => [o.partition, o.offset]));
  }

  /**
   * What a purge would delete, per partition: below the named offsets (Kafka's deleteRecords
   * semantics: the offset given becomes the first one kept), or every record older than `before`.
   * Changes nothing. @throws DlqAdminError (bad-input) for an unknown partition or an offset past
   * the log end.
   */
  async planPurge(target: DlqPurgeTarget): Promise<DlqPurgePlan[]> {
    const partitions = await this.bounds();
    const plan = (p: DlqPartitionBounds, upTo: string): DlqPurgePlan => {
      const newLow = max(p.low, upTo);
      return { ...p, newLow, deletes: Number(big(newLow) - big(p.low)) };
    };
    if ('before' in target) {
      const at = await this.offsetsAt(target.before);
      return partitions.map((p) => plan(p, at.get(p.partition) ?? p.low));
    }
    return target.positions.map(({ partition, offset }) => {
      const p = this.partitionOf(partitions, partition);
      if (big(offset) > big(p.high)) {
        throw new DlqAdminError(
          `offset ${offset} is past the log end of partition ${partition} of ${this.topic} (${p.high})`,
          'bad-input',
        );
      }
      return plan(p, offset);
    });
  }

  /**
   * Deletes what `plan` says (Kafka deleteRecords: the log start of each partition moves up to
   * `newLow`), then returns the partitions as they are now.
   */
  async purge(plan: DlqPurgePlan[]): Promise<DlqPartitionBounds[]> {
    const partitions = plan
      .filter((p) => p.deletes > 0)
      .map((p) => ({ partition: p.partition, offset: p.newLow }));
    const admin = await this.connectedAdmin();
    if (partitions.length > 0) await admin.deleteTopicRecords({ topic: this.topic, partitions });
    return this.bounds();
  }

  async close(): Promise<void> {
    await Promise.allSettled([
      this.dropProducer(),
      this.reader.disconnect(),
      this.adminConnected ? this.admin.disconnect() : Promise.resolve(),
    ]);
    this.adminConnected = undefined;
  }
}
