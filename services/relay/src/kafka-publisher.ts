import { CompressionTypes, Kafka, Partitioners, logLevel as kafkaLogLevel } from 'kafkajs';
import type { ICustomPartitioner, LogEntry, Message, Producer } from 'kafkajs';
import { kafkaSecurityOptions } from '@shopstream/shared';
import type { KafkaSecurityConfig, Logger } from '@shopstream/shared';
import type { PendingEvent, PublishedEvent } from './outbox-store.js';

/** Why a send failed, for `shopstream_outbox_publish_failures_total{reason}` and the split decision. */
export type PublishFailureReason =
  'message_too_large' | 'invalid_record' | 'broker_unavailable' | 'timeout' | 'other';

export class PublishError extends Error {
  constructor(
    message: string,
    readonly reason: PublishFailureReason,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PublishError';
  }

  /** True when the records themselves are at fault: sending them one by one finds the culprit. */
  get recordSpecific(): boolean {
    return this.reason === 'message_too_large' || this.reason === 'invalid_record';
  }
}

const recordErrors: Record<string, PublishFailureReason> = {
  MESSAGE_TOO_LARGE: 'message_too_large',
  RECORD_LIST_TOO_LARGE: 'message_too_large',
  INVALID_RECORD: 'invalid_record',
  CORRUPT_MESSAGE: 'invalid_record',
};

/** kafkajs wraps the broker's error (retries exhausted → originalError / cause): walk the chain. */
function classify(err: unknown): PublishFailureReason {
  const next = (e: unknown): unknown =>
    (e as { originalError?: unknown }).originalError ?? (e as { cause?: unknown }).cause;
  for (let e: unknown = err; e; e = next(e)) {
    const type = (e as { type?: string }).type;
    if (type && recordErrors[type]) return recordErrors[type]!;
    const name = (e as { name?: string }).name ?? '';
    if (name === 'KafkaJSRequestTimeoutError') return 'timeout';
    if (
      name === 'KafkaJSConnectionError' ||
      name === 'KafkaJSBrokerNotFound' ||
      name === 'KafkaJSConnectionClosedError'
    ) {
      return 'broker_unavailable';
    }
    if (
      type === 'LEADER_NOT_AVAILABLE' ||
      type === 'NOT_LEADER_FOR_PARTITION' ||
      type === 'REQUEST_TIMED_OUT'
    ) {
      return 'broker_unavailable';
    }
  }
  return 'other';
}

/** kafkajs logs through pino: warn and error only, as structured fields. */
function kafkaLogCreator(log: Logger) {
  return (): ((entry: LogEntry) => void) =>
    ({ level, log: { message, ...extra } }) => {
      if (level === kafkaLogLevel.ERROR) log.warn(extra, `kafkajs: ${message}`);
      else if (level === kafkaLogLevel.WARN) log.warn(extra, `kafkajs: ${message}`);
    };
}

/**
 * The relay's only way to Kafka: kafkajs's idempotent producer (acks = all, one request in flight,
 * so a retried batch cannot overtake the next), key = product id, CloudEvents headers as stored.
 * A custom partitioner wraps the default one to learn each record's partition, which with the
 * per-partition base offsets gives every event its exact partition and offset.
 */
export class KafkaPublisher {
  private producer: Producer;
  private readonly newProducer: () => Producer;
  private readonly assigned = new WeakMap<Message, number>();
  private connected = false;

  /** `security` is the relay's parsed config (or its Kafka security keys); without it, plaintext. */
  constructor(options: {
    brokers: string[];
    clientId: string;
    requestTimeoutMs: number;
    log: Logger;
    security?: KafkaSecurityConfig;
  }) {
    const kafka = new Kafka({
      clientId: options.clientId,
      brokers: options.brokers,
      ...kafkaSecurityOptions(options.security ?? {}),
      requestTimeout: options.requestTimeoutMs,
      // Our own backoff (next_attempt_at) owns retries beyond a short burst.
      retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2_000 },
      logLevel: kafkaLogLevel.WARN,
      logCreator: kafkaLogCreator(options.log),
    });
    const recordingPartitioner: ICustomPartitioner = () => {
      const pick = Partitioners.DefaultPartitioner();
      return (args) => {
        const partition = pick(args);
        this.assigned.set(args.message, partition);
        return partition;
      };
    };
    this.newProducer = () =>
      kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        createPartitioner: recordingPartitioner,
      });
    this.producer = this.newProducer();
  }

  get isConnected(): boolean {
    return this.connected;
  }

  async connect(): Promise<void> {
    await this.producer.connect();
    this.connected = true;
  }

  /**
   * kafkajs's idempotent producer advances its per-partition sequence numbers even for a batch the
   * broker refused, after which every send to that partition fails with OUT_OF_ORDER_SEQUENCE_NUMBER.
   * A failed send therefore starts a new producer (kafkajs keeps the producer id and sequences for
   * the life of the object, across reconnects): new producer id, sequences from zero.
   */
  private async restart(): Promise<void> {
    await this.producer.disconnect().catch(() => undefined);
    this.connected = false;
    this.producer = this.newProducer();
    await this.producer
      .connect()
      .then(() => (this.connected = true))
      .catch(() => undefined); // broker down: the next send reconnects, or fails and backs off
  }

  async disconnect(): Promise<void> {
    this.connected = false;
    await this.producer.disconnect();
  }

  /**
   * Publishes `events` (one topic per call is the common case; several topics are grouped) and
   * returns each one's partition and offset once the broker acknowledged all of them.
   * @throws PublishError classified by reason; nothing is known to be published then.
   */
  async publish(events: PendingEvent[]): Promise<PublishedEvent[]> {
    const byTopic = new Map<string, { event: PendingEvent; message: Message }[]>();
    for (const event of events) {
      const message: Message = {
        key: event.aggregateId,
        value: JSON.stringify(event.payload),
        headers: event.headers,
      };
      const list = byTopic.get(event.topic) ?? [];
      list.push({ event, message });
      byTopic.set(event.topic, list);
    }
    let metadata;
    try {
      metadata = await this.producer.sendBatch({
        acks: -1,
        compression: CompressionTypes.None,
        topicMessages: [...byTopic].map(([topic, items]) => ({
          topic,
          messages: items.map((i) => i.message),
        })),
      });
    } catch (err) {
      const reason = classify(err);
      await this.restart();
      throw new PublishError(
        `failed to publish ${events.length} outbox events: ${(err as Error).message}`,
        reason,
        {
          cause: err,
        },
      );
    }
    const baseOffset = new Map(
      metadata.map((m) => [`${m.topicName}/${m.partition}`, BigInt(m.baseOffset ?? '0')]),
    );
    const nextIndex = new Map<string, bigint>();
    const published: PublishedEvent[] = [];
    for (const [topic, items] of byTopic) {
      for (const { event, message } of items) {
        const partition = this.assigned.get(message);
        if (partition === undefined) throw new Error(`no partition recorded for outbox event ${event.id}`);
        const key = `${topic}/${partition}`;
        const index = nextIndex.get(key) ?? 0n;
        nextIndex.set(key, index + 1n);
        published.push({ id: event.id, partition, offset: String((baseOffset.get(key) ?? 0n) + index) });
      }
    }
    return published;
  }
}
