import { createRequire } from 'node:module';
import type { IHeaders, Kafka } from 'kafkajs';

/** One record as fetched: the bytes as stored, nothing decoded beyond the record format. */
export interface FetchedRecord {
  partition: number;
  offset: string;
  /** CreateTime or LogAppendTime, ms since the epoch, as a string (kafkajs's format). */
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
}

/** Offsets `from` (inclusive) to `to` (exclusive) of one partition. */
export interface PartitionRange {
  partition: number;
  from: string;
  to: string;
}

// The parts of kafkajs 2.2.4's internal cluster and broker this reader uses (no public types).
interface FetchPartitionResponse {
  partition: number;
  highWatermark: string;
  abortedTransactions?: unknown[];
  messages: unknown[];
}
interface InternalBroker {
  fetch(request: {
    maxWaitTime: number;
    minBytes: number;
    maxBytes: number;
    isolationLevel: number;
    topics: { topic: string; partitions: { partition: number; fetchOffset: string; maxBytes: number }[] }[];
  }): Promise<{ responses: { topicName: string; partitions: FetchPartitionResponse[] }[] }>;
}
interface InternalCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addTargetTopic(topic: string): Promise<void>;
  refreshMetadata(): Promise<void>;
  findLeaderForPartitions(topic: string, partitions: number[]): Record<string, number[]>;
  findBroker(request: { nodeId: string }): Promise<InternalBroker>;
}
interface InternalBatch {
  messages: (FetchedRecord & { isControlRecord?: boolean })[];
  lastOffset(): string;
}

const requireCjs = createRequire(import.meta.url);
const Batch = requireCjs('kafkajs/src/consumer/batch.js') as new (
  topic: string,
  fetchedOffset: string,
  partitionData: FetchPartitionResponse,
) => InternalBatch;

/** Kafka's READ_COMMITTED: records of aborted transactions are never returned as data. */
const READ_COMMITTED = 1;
/** Retriable protocol errors after which a fresh leader lookup may succeed. */
const LEADERSHIP_ERRORS = new Set([
  'NOT_LEADER_FOR_PARTITION',
  'NOT_LEADER_OR_FOLLOWER',
  'LEADER_NOT_AVAILABLE',
  'UNKNOWN_LEADER_EPOCH',
  'FENCED_LEADER_EPOCH',
]);

/**
 * kafkajs's client builds a cluster for each producer, consumer and admin through a private
 * factory that carries the client's brokers, TLS, SASL, timeouts and logger. kafkajs is pinned
 * (2.2.4); if a new version renames it, this says so instead of failing somewhere deeper.
 */
function clusterOf(kafka: Kafka): InternalCluster {
  const key = Object.getOwnPropertySymbols(kafka).find(
    (s) => s.description === 'private:Kafka:createCluster',
  );
  const create = key && (kafka as unknown as Record<symbol, unknown>)[key];
  if (typeof create !== 'function') {
    throw new Error('this kafkajs version has no cluster factory: the partition reader needs kafkajs 2.2.x');
  }
  return (create as (options: object) => InternalCluster)({ allowAutoTopicCreation: false });
}

/**
 * Reads ranges of a topic's partitions straight from their leaders, **without a consumer group**:
 * kafkajs's consumer always joins (and so creates) a group, which a read-only tool must not do.
 * Fetches READ_COMMITTED through kafkajs's own cluster, broker connections and record decoding,
 * drops what kafkajs's consumer drops (records before the fetch offset, control records, aborted
 * transactions) and stops at the end of each range. Use one reader per command or request: it
 * holds connections until `disconnect()`.
 */
export class PartitionReader {
  private readonly cluster: InternalCluster;
  private connected: Promise<void> | undefined;

  constructor(
    kafka: Kafka,
    readonly topic: string,
    private readonly options: { maxBytesPerFetch?: number; maxWaitTimeMs?: number } = {},
  ) {
    this.cluster = clusterOf(kafka);
  }

  private async ready(): Promise<void> {
    this.connected ??= (async () => {
      await this.cluster.connect();
      await this.cluster.addTargetTopic(this.topic);
    })();
    try {
      await this.connected;
    } catch (err) {
      this.connected = undefined;
      throw err;
    }
  }

  /**
   * Yields the records of `range` in offset order, one fetch at a time, and ends at `range.to`
   * (what was the log end when the caller looked), so a busy topic cannot keep it going.
   * @throws the kafkajs error of a fetch that failed twice (leader lookup refreshed in between).
   */
  async *read(range: PartitionRange): AsyncGenerator<FetchedRecord[]> {
    await this.ready();
    const end = BigInt(range.to);
    let next = BigInt(range.from);
    while (next < end) {
      const data = await this.fetchOnce(range.partition, next.toString());
      const batch = new Batch(this.topic, next.toString(), data);
      const after = BigInt(batch.lastOffset()) + 1n;
      const records = batch.messages
        .filter((m) => !m.isControlRecord && BigInt(m.offset) < end)
        .map((m): FetchedRecord => ({
          partition: range.partition,
          offset: m.offset,
          timestamp: m.timestamp,
          key: m.key ?? null,
          value: m.value ?? null,
          headers: m.headers ?? {},
        }));
      if (records.length) yield records;
      // An empty answer at the log end: nothing more will come within this range.
      if (after <= next) break;
      next = after;
    }
  }

  private async fetchOnce(partition: number, fetchOffset: string): Promise<FetchPartitionResponse> {
    for (let attempt = 1; ; attempt++) {
      try {
        const leaders = this.cluster.findLeaderForPartitions(this.topic, [partition]);
        const nodeId = Object.keys(leaders).find((id) => leaders[id]?.includes(partition));
        if (nodeId === undefined) {
          throw Object.assign(new Error(`no leader for partition ${partition} of ${this.topic}`), {
            type: 'LEADER_NOT_AVAILABLE',
          });
        }
        const broker = await this.cluster.findBroker({ nodeId });
        const maxBytes = this.options.maxBytesPerFetch ?? 1024 * 1024;
        const { responses } = await broker.fetch({
          maxWaitTime: this.options.maxWaitTimeMs ?? 100,
          minBytes: 1,
          maxBytes,
          isolationLevel: READ_COMMITTED,
          topics: [{ topic: this.topic, partitions: [{ partition, fetchOffset, maxBytes }] }],
        });
        const found = responses
          .find((r) => r.topicName === this.topic)
          ?.partitions.find((p) => p.partition === partition);
        if (!found) throw new Error(`Kafka returned no data for partition ${partition} of ${this.topic}`);
        return found;
      } catch (err) {
        const type = (err as { type?: string }).type;
        if (attempt >= 2 || !type || !LEADERSHIP_ERRORS.has(type)) throw err;
        await this.cluster.refreshMetadata();
      }
    }
  }

  async disconnect(): Promise<void> {
    this.connected = undefined;
    await this.cluster.disconnect().catch(() => undefined);
  }
}
