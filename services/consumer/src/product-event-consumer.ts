import type { Admin, EachBatchPayload, Kafka, KafkaMessage, Producer, Consumer } from 'kafkajs';
import type { Pool } from 'pg';
import type { Logger } from '@shopstream/shared';
import { describeLag, explainStart } from '@shopstream/shared';
import { BatchHeartbeat } from './batch-heartbeat.js';
import { sendToDeadLetter } from './dead-letter.js';
import { applyEvents } from './inbox.js';
import type { ConsumerMetrics } from './metrics.js';
import { RecordProcessor } from './record-processor.js';
import type { ConsumedRecord } from './record-processor.js';
import { StoppedBeforeStartError, waitForTopics } from './topic-wait.js';

export interface ConsumerSettings {
  groupId: string;
  topic: string;
  dlqTopic: string;
  startFrom: 'earliest' | 'latest';
  retryBaseMs: number;
  retryMaxMs: number;
  /** While blocked on one event, how often "consumer still blocked" is logged. */
  blockedLogIntervalMs: number;
  lagIntervalMs: number;
  /** Partitions of this member processed at once (kafkajs `partitionsConsumedConcurrently`). */
  partitionsConcurrently: number;
  /** At most this many records of a partition are applied in one inbox transaction. */
  batchMax: number;
  /** While the topic or the dead-letter topic is missing, how often start-up looks again. */
  topicWaitIntervalMs: number;
}

const headerMap = (message: KafkaMessage): Record<string, string> =>
  Object.fromEntries(
    Object.entries(message.headers ?? {}).map(([k, v]) => [k, Array.isArray(v) ? String(v[0]) : String(v)]),
  );

const consumed = (topic: string, partition: number, message: KafkaMessage): ConsumedRecord => ({
  topic,
  partition,
  offset: message.offset,
  key: message.key,
  value: message.value,
  headers: headerMap(message),
});

/**
 * The product-event consumer: kafkajs group consumer; up to `partitionsConcurrently` partitions at
 * once, each in offset order, in chunks of up to `batchMax` records applied in one inbox transaction.
 * A chunk's offsets are resolved (and so committed) only after its transaction committed and the DLQ
 * acknowledged its events at fault (`RecordProcessor`, the one path a record takes); an
 * environmental failure retries the same chunk, heartbeating, and commits nothing until it goes
 * through or the partition is taken away. Start-up waits, not ready, until both topics exist
 * (`waitForTopics`), then logs, per partition, where the group resumes and why.
 */
export class ProductEventConsumer {
  private readonly consumer: Consumer;
  private readonly producer: Producer;
  private readonly admin: Admin;
  private readonly processor: RecordProcessor;
  /** False once stop() began: every retry loop and batch checks it. */
  private running = false;
  /** True once kafkajs runs the group consumer (readiness). */
  private started = false;
  /** Aborted by stop(): ends a start-up still waiting for its topics. */
  private readonly stopping = new AbortController();
  private lagTimer: NodeJS.Timeout | undefined;
  /** Per partition: the timestamp (ms) of the oldest message fetched but not yet applied. */
  private readonly oldestUnapplied = new Map<number, number | null>();

  constructor(
    kafka: Kafka,
    pool: Pool,
    private readonly settings: ConsumerSettings,
    private readonly metrics: ConsumerMetrics,
    private readonly log: Logger,
    /** Whether Kafka refused this client (credentials, certificates): start-up stops at once then. */
    private readonly refused: (err: unknown) => boolean,
  ) {
    this.consumer = kafka.consumer({ groupId: settings.groupId, allowAutoTopicCreation: false });
    this.producer = kafka.producer({
      allowAutoTopicCreation: false,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    this.admin = kafka.admin();
    this.processor = new RecordProcessor(
      settings,
      {
        apply: (events) => applyEvents(pool, settings.groupId, events),
        deadLetter: (letter) => sendToDeadLetter(this.producer, settings.dlqTopic, letter),
      },
      metrics,
      log,
    );
  }

  get isRunning(): boolean {
    return this.started && this.running;
  }

  /**
   * Waits until the topic and the dead-letter topic exist, then joins the group and consumes.
   * @throws StoppedBeforeStartError when stop() came first; Kafka's refusal of this client as it came.
   */
  async start(): Promise<void> {
    const { groupId, topic, dlqTopic, startFrom } = this.settings;
    this.metrics.init(groupId);
    await waitForTopics(
      { groupId, topic, dlqTopic, intervalMs: this.settings.topicWaitIntervalMs },
      {
        listTopics: async () => {
          await this.admin.connect();
          return this.admin.listTopics();
        },
        refused: this.refused,
        setWaiting: (t, waiting) => this.metrics.setWaitingForTopic(groupId, t, waiting),
      },
      this.log,
      this.stopping.signal,
    );
    const dlq = `dead-letter topic ${dlqTopic} exists: events at fault themselves go there, an environmental error blocks and retries`;
    for (const p of await describeLag(this.admin, groupId, topic, startFrom)) {
      this.log.info(
        {
          groupId,
          topic,
          partition: p.partition,
          committedOffset: p.committedOffset,
          logEndOffset: p.logEndOffset,
          lag: p.lag,
          reason: explainStart(p, startFrom),
          dlqTopic,
          dlq,
        },
        'consumer start position',
      );
    }
    await this.producer.connect();
    this.consumer.on(this.consumer.events.GROUP_JOIN, (e) =>
      this.log.info(
        { groupId, memberId: e.payload.memberId, assignment: e.payload.memberAssignment },
        'joined consumer group',
      ),
    );
    this.consumer.on(this.consumer.events.CRASH, (e) =>
      this.log.error({ groupId, err: e.payload.error, restart: e.payload.restart }, 'consumer crashed'),
    );
    await this.consumer.connect();
    await this.consumer.subscribe({ topic, fromBeginning: startFrom === 'earliest' });
    // A stop during the steps above has disconnected the clients: running the group now would rejoin.
    if (this.stopping.signal.aborted) throw new StoppedBeforeStartError(groupId);
    this.running = true; // before run(): its first batch may arrive before run() resolves
    await this.consumer.run({
      autoCommit: true,
      autoCommitInterval: 1000,
      eachBatchAutoResolve: false,
      // Partitions are independent (per-product order lives within one); the inbox transaction
      // locks products and sellers in sorted order, so concurrent chunks cannot deadlock each other.
      partitionsConsumedConcurrently: this.settings.partitionsConcurrently,
      eachBatch: (payload) => this.eachBatch(payload),
    });
    this.started = true;
    await this.refreshLag();
    this.lagTimer = setInterval(
      () => void this.refreshLag().catch((err: unknown) => this.log.warn({ err }, 'lag refresh failed')),
      this.settings.lagIntervalMs,
    );
  }

  /** Finishes the in-flight batch, commits what was applied, leaves the group. */
  async stop(): Promise<void> {
    this.running = false;
    this.stopping.abort();
    if (this.lagTimer) clearInterval(this.lagTimer);
    await this.consumer.disconnect();
    await this.producer.disconnect();
    await this.admin.disconnect();
  }

  private async eachBatch({
    batch,
    resolveOffset,
    heartbeat,
    isRunning,
    isStale,
    commitOffsetsIfNecessary,
  }: EachBatchPayload): Promise<void> {
    const { partition, topic } = batch;
    const beat = new BatchHeartbeat(heartbeat);
    // Whether this batch is still ours to work on: a stop, a seek, or a lost assignment ends it.
    const keepGoing = (): boolean => this.running && isRunning() && !isStale() && !beat.lostAssignment;
    try {
      const { messages } = batch;
      for (let start = 0; start < messages.length && keepGoing(); start += this.settings.batchMax) {
        const chunk = messages.slice(start, start + this.settings.batchMax);
        this.oldestUnapplied.set(partition, Number(chunk[0]!.timestamp));
        const records = chunk.map((message) => consumed(topic, partition, message));
        const outcome = await this.processor.process(records, keepGoing);
        if (outcome === 'handed_over') break; // not all applied or dead-lettered: never resolved
        resolveOffset(chunk[chunk.length - 1]!.offset);
        const next = messages[start + chunk.length];
        this.oldestUnapplied.set(partition, next ? Number(next.timestamp) : null);
      }
    } finally {
      beat.stop();
    }
    // kafkajs rejoins the group when eachBatch throws its rebalance error.
    if (beat.lostAssignment) throw beat.lostAssignment;
    await commitOffsetsIfNecessary();
  }

  /** Lag per partition from Kafka (committed vs log end) and, for seconds, the oldest unapplied message. */
  async refreshLag(): Promise<void> {
    const { groupId, topic, startFrom } = this.settings;
    const lags = await describeLag(this.admin, groupId, topic, startFrom);
    this.metrics.setLag(groupId, lags, (partition) => this.oldestUnapplied.get(partition));
  }
}
