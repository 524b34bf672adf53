import { CompressionTypes, Kafka, Partitioners, logLevel as kafkaLogLevel } from 'kafkajs';
import type { Admin, LogEntry, Message, PartitionMetadata, Producer } from 'kafkajs';
import { kafkaSecurityFailure, kafkaSecurityOptions } from '@shopstream/shared';
import type { KafkaSecurityConfig, Logger } from '@shopstream/shared';
import type { PendingEvent, PublishedEvent } from './outbox-store.js';
import { PublishError, classifyPublishFailure } from './publish-failure.js';

export { PublishError } from './publish-failure.js';
export type { PublishFailureReason } from './publish-failure.js';

export const RELAY_COMPRESSIONS = ['none', 'gzip'] as const;
export type RelayCompression = (typeof RELAY_COMPRESSIONS)[number];

/** Events of one partition that failed together, and why. */
export interface FailedSend {
  events: PendingEvent[];
  error: PublishError;
}

/** What one publish call achieved: acked events (with partition/offset) and failed partition groups. */
export interface PublishOutcome {
  published: PublishedEvent[];
  failed: FailedSend[];
}

/** Bytes a record takes on the wire beyond key, value and headers (batch and record framing). */
const RECORD_OVERHEAD_BYTES = 128;

/** kafkajs logs through pino: warn and error only, as structured fields. */
function kafkaLogCreator(log: Logger) {
  return (): ((entry: LogEntry) => void) =>
    ({ level, log: { message, ...extra } }) => {
      if (level === kafkaLogLevel.ERROR || level === kafkaLogLevel.WARN)
        log.warn(extra, `kafkajs: ${message}`);
    };
}

const withDeadline = <T>(work: Promise<T>, ms: number, what: string): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          Object.assign(new Error(`${what} took longer than ${ms} ms`), {
            name: 'KafkaJSRequestTimeoutError',
          }),
        ),
      ms,
    );
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
};

/**
 * The relay's only way to Kafka: kafkajs's idempotent producer (acks = all, one request in flight,
 * key = product id, CloudEvents headers as stored). Each batch is split by partition — computed
 * with kafkajs's default (Java-compatible murmur2) partitioner over the topic's metadata — and each
 * partition's records are sent as their own request, so a partition whose leader is away fails
 * alone and every acked partition can be marked (DESIGN §4: a batch where part was acked marks what
 * was acked). Every send has a deadline (`sendTimeoutMs`) that the relay's self-fencing budgets for;
 * beyond one quick retry inside it, the relay's circuit and next_attempt_at own retrying.
 */
export class KafkaPublisher {
  private producer: Producer;
  private readonly admin: Admin;
  private adminConnected = false;
  private readonly newProducer: () => Producer;
  private readonly partitions = new Map<string, PartitionMetadata[]>();
  private readonly pick = Partitioners.DefaultPartitioner();
  private connected = false;
  private readonly codec: CompressionTypes;

  constructor(
    private readonly options: {
      brokers: string[];
      clientId: string;
      /** Deadline of one whole send (metadata, connect and the produce request). */
      sendTimeoutMs: number;
      log: Logger;
      security?: KafkaSecurityConfig;
      /** Codec of every record batch; kafkajs ships gzip without native code (snappy/lz4/zstd need it). */
      compression?: RelayCompression;
    },
  ) {
    const kafka = new Kafka({
      clientId: options.clientId,
      brokers: options.brokers,
      ...kafkaSecurityOptions(options.security ?? {}),
      connectionTimeout: Math.max(100, Math.min(3_000, Math.floor(options.sendTimeoutMs / 4))),
      requestTimeout: Math.max(100, Math.floor(options.sendTimeoutMs / 3)),
      retry: { retries: 0 },
      logLevel: kafkaLogLevel.WARN,
      logCreator: kafkaLogCreator(options.log),
    });
    this.newProducer = () =>
      kafka.producer({
        idempotent: true,
        // One request per connection at a time: a batch's partitions queue behind each other. Five
        // (concurrent partition requests) was tried; the build with it once failed the SIGSTOP test
        // (relay-paused: stale copies after newer versions, 1 run in 10, cause not proven), so the
        // setting every earlier run proved stays.
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner, // each record names its partition anyway
        // kafkajs refuses an idempotent producer without retries: one quick retry, inside the deadline
        // (two requests of sendTimeout / 3 plus at most 300 ms); a send past the deadline restarts the
        // producer, which ends any retry still pending.
        retry: { retries: 1, initialRetryTime: 100, maxRetryTime: 300 },
      });
    this.producer = this.newProducer();
    this.admin = kafka.admin({ retry: { retries: 0 } });
    this.codec = options.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
  }

  get isConnected(): boolean {
    return this.connected;
  }

  /**
   * Connects; a broker that is down is not an error here (the first send opens the circuit), and
   * neither are refused credentials or an untrusted certificate: a Strimzi KafkaUser's Secret often
   * appears after the relay starts. Those are logged as what they are, at error level.
   */
  async connect(): Promise<void> {
    try {
      await withDeadline(this.producer.connect(), this.options.sendTimeoutMs, 'connecting to Kafka');
      this.connected = true;
    } catch (err) {
      const refused = this.securityFailure(err);
      if (refused) {
        this.options.log.error(
          { err, kind: refused.kind },
          `${refused.message}; the relay retries with the circuit's backoff`,
        );
      } else {
        this.options.log.warn({ err }, 'Kafka is not reachable yet; the relay will retry');
      }
    }
  }

  private securityFailure(err: unknown) {
    return kafkaSecurityFailure(err, this.options.security ?? {}, this.options.brokers);
  }

  /** The error's message, or the sentence naming a refused login or an untrusted certificate. */
  private explain(err: unknown): string {
    return this.securityFailure(err)?.message ?? (err as Error).message;
  }

  /** A producer started after a failed send connects on its first use. */
  private async ensureConnected(): Promise<void> {
    if (this.connected) return;
    await withDeadline(this.producer.connect(), this.options.sendTimeoutMs, 'connecting to Kafka');
    this.connected = true;
  }

  /**
   * kafkajs's idempotent producer advances its per-partition sequence numbers even for a batch the
   * broker refused, after which every send to that partition fails with OUT_OF_ORDER_SEQUENCE_NUMBER.
   * A failed send therefore starts a new producer (kafkajs keeps the producer id and sequences for
   * the life of the object, across reconnects): new producer id, sequences from zero.
   */
  private async restart(): Promise<void> {
    const old = this.producer;
    this.connected = false;
    this.producer = this.newProducer();
    await withDeadline(old.disconnect(), this.options.sendTimeoutMs, 'disconnecting').catch(() => undefined);
    this.partitions.clear(); // leadership or partition count may have changed
  }

  async disconnect(): Promise<void> {
    this.connected = false;
    await this.producer.disconnect().catch(() => undefined);
    if (this.adminConnected) await this.admin.disconnect().catch(() => undefined);
  }

  /** Topic metadata, cached until a send fails. */
  private async partitionsOf(topic: string): Promise<PartitionMetadata[]> {
    const cached = this.partitions.get(topic);
    if (cached) return cached;
    let topics;
    try {
      if (!this.adminConnected) {
        await this.admin.connect();
        this.adminConnected = true;
      }
      ({ topics } = await this.admin.fetchTopicMetadata({ topics: [topic] }));
    } catch (err) {
      // Start from a fresh connection next time: kafkajs's admin does not always notice a dead one.
      this.adminConnected = false;
      await this.admin.disconnect().catch(() => undefined);
      throw err;
    }
    const found = topics.find((t) => t.name === topic)?.partitions ?? [];
    if (found.length === 0) {
      throw Object.assign(new Error(`topic ${topic} has no partitions`), {
        type: 'UNKNOWN_TOPIC_OR_PARTITION',
      });
    }
    this.partitions.set(topic, found);
    return found;
  }

  /**
   * Checks that Kafka answers for `topics` (metadata only, nothing sent): the half-open probe of
   * the relay's circuit. @throws PublishError (the environment's) if it does not.
   */
  async probe(topics: string[]): Promise<void> {
    try {
      this.partitions.clear();
      await withDeadline(
        Promise.all(topics.map((t) => this.partitionsOf(t))),
        this.options.sendTimeoutMs,
        'probing Kafka',
      );
      await this.ensureConnected();
    } catch (err) {
      throw new PublishError(`Kafka probe failed: ${this.explain(err)}`, classifyPublishFailure(err), {
        cause: err,
      });
    }
  }

  /**
   * Publishes `events` and reports, per partition, what was acked (with partition and offset) and
   * what failed (classified). Events of one product are in one partition, in the order given.
   */
  async publish(events: PendingEvent[]): Promise<PublishOutcome> {
    const outcome: PublishOutcome = { published: [], failed: [] };
    const sendable = events;
    const groups = new Map<string, { topic: string; partition: number; events: PendingEvent[] }>();
    for (const topic of new Set(sendable.map((e) => e.topic))) {
      const ofTopic = sendable.filter((e) => e.topic === topic);
      let partitionMetadata: PartitionMetadata[];
      try {
        partitionMetadata = await withDeadline(
          this.partitionsOf(topic),
          this.options.sendTimeoutMs,
          'reading topic metadata',
        );
      } catch (err) {
        // Without metadata nothing of this topic can go: the environment's fault.
        outcome.failed.push({
          events: ofTopic,
          error: new PublishError(
            `failed to read metadata of topic ${topic}: ${this.explain(err)}`,
            classifyPublishFailure(err),
            { cause: err },
          ),
        });
        continue;
      }
      for (const event of ofTopic) {
        const partition = this.pick({
          topic,
          partitionMetadata,
          message: { key: event.aggregateId, value: null },
        });
        const id = `${topic}/${partition}`;
        const group = groups.get(id) ?? { topic, partition, events: [] };
        group.events.push(event);
        groups.set(id, group);
      }
    }

    try {
      if (groups.size > 0) await this.ensureConnected();
    } catch (err) {
      const error = new PublishError(
        `failed to connect to Kafka: ${this.explain(err)}`,
        classifyPublishFailure(err),
        { cause: err },
      );
      for (const group of groups.values()) outcome.failed.push({ events: group.events, error });
      return outcome;
    }
    const sends = [...groups.values()].map(async (group) => {
      const messages: Message[] = group.events.map((e) => ({
        key: e.aggregateId,
        value: valueOf(e),
        headers: e.headers,
        partition: group.partition,
      }));
      const metadata = await withDeadline(
        this.producer.send({ topic: group.topic, acks: -1, messages, compression: this.codec }),
        this.options.sendTimeoutMs,
        `sending ${messages.length} records to ${group.topic}/${group.partition}`,
      );
      const base = BigInt(metadata.find((m) => m.partition === group.partition)?.baseOffset ?? '-1');
      if (base < 0n) throw new Error(`no offset acknowledged for ${group.topic}/${group.partition}`);
      return group.events.map((e, i) => ({
        id: e.id,
        partition: group.partition,
        offset: String(base + BigInt(i)),
      }));
    });
    const settled = await Promise.allSettled(sends);
    const groupList = [...groups.values()];
    let anyFailed = false;
    settled.forEach((result, i) => {
      if (result.status === 'fulfilled') {
        outcome.published.push(...result.value);
        this.connected = true;
        return;
      }
      anyFailed = true;
      const group = groupList[i]!;
      const err = result.reason as unknown;
      outcome.failed.push({
        events: group.events,
        error: new PublishError(
          `failed to publish ${group.events.length} outbox events to ${group.topic}/${group.partition}: ${this.explain(err)}`,
          classifyPublishFailure(err),
          { cause: err },
        ),
      });
    });
    if (anyFailed) await this.restart();
    return outcome;
  }
}

/** The stored payload text is the record's value, byte for byte. */
const valueOf = (event: PendingEvent): string => event.payload;

/**
 * The wire size of an event's record, as the broker's size limit counts it (close enough: the
 * framing overhead is rounded up), so a record the broker would refuse is caught before sending.
 */
export function recordBytes(event: PendingEvent): number {
  let bytes =
    RECORD_OVERHEAD_BYTES + Buffer.byteLength(event.aggregateId) + Buffer.byteLength(valueOf(event));
  for (const [k, v] of Object.entries(event.headers)) bytes += Buffer.byteLength(k) + Buffer.byteLength(v);
  return bytes;
}
