import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin, EachBatchPayload, Kafka, KafkaMessage, Producer, Consumer } from 'kafkajs';
import type { Pool } from 'pg';
import type { Logger } from '@shopstream/shared';
import { sendToDeadLetter } from './dead-letter.js';
import { parseProductEvent } from './event-envelope.js';
import { EventRejectedError, isRetriable } from './event-errors.js';
import { applyEvent } from './inbox.js';
import { describeLag, explainStart } from '@shopstream/shared';
import type { ConsumerMetrics } from './metrics.js';

export interface ConsumerSettings {
  groupId: string;
  topic: string;
  dlqTopic: string;
  startFrom: 'earliest' | 'latest';
  retryBaseMs: number;
  retryMaxMs: number;
  lagIntervalMs: number;
}

const headerMap = (message: KafkaMessage): Record<string, string> =>
  Object.fromEntries(
    Object.entries(message.headers ?? {}).map(([k, v]) => [k, Array.isArray(v) ? String(v[0]) : String(v)]),
  );

/**
 * The product-event consumer: kafkajs group consumer, one partition's batch at a time in offset
 * order. An offset is resolved (and so committed) only after the event's inbox transaction committed
 * or it was acknowledged by the DLQ; a retriable failure retries the same message with backoff and
 * commits nothing. Start-up logs, per partition, exactly where the group resumes and why.
 */
export class ProductEventConsumer {
  private readonly consumer: Consumer;
  private readonly producer: Producer;
  private readonly admin: Admin;
  private running = false;
  private lagTimer: NodeJS.Timeout | undefined;
  /** Per partition: the timestamp (ms) of the oldest message fetched but not yet applied. */
  private readonly oldestUnapplied = new Map<number, number | null>();

  constructor(
    kafka: Kafka,
    private readonly pool: Pool,
    private readonly settings: ConsumerSettings,
    private readonly metrics: ConsumerMetrics,
    private readonly log: Logger,
  ) {
    this.consumer = kafka.consumer({ groupId: settings.groupId, allowAutoTopicCreation: false });
    this.producer = kafka.producer({
      allowAutoTopicCreation: false,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    this.admin = kafka.admin();
  }

  get isRunning(): boolean {
    return this.running;
  }

  async start(): Promise<void> {
    const { groupId, topic, startFrom } = this.settings;
    await this.admin.connect();
    const topics = await this.admin.listTopics();
    if (!topics.includes(topic)) {
      throw new Error(
        `topic ${topic} does not exist: nothing can be consumed by group ${groupId} (check CONSUMER_TOPIC)`,
      );
    }
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
    await this.consumer.run({
      autoCommit: true,
      autoCommitInterval: 1000,
      eachBatchAutoResolve: false,
      eachBatch: (payload) => this.eachBatch(payload),
    });
    this.running = true;
    await this.refreshLag();
    this.lagTimer = setInterval(
      () => void this.refreshLag().catch((err: unknown) => this.log.warn({ err }, 'lag refresh failed')),
      this.settings.lagIntervalMs,
    );
  }

  /** Finishes the in-flight batch, commits what was applied, leaves the group. */
  async stop(): Promise<void> {
    this.running = false;
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
    for (const [i, message] of batch.messages.entries()) {
      if (!isRunning() || isStale()) break;
      this.oldestUnapplied.set(partition, Number(message.timestamp));
      const done = await this.handle(topic, partition, message, isRunning, heartbeat);
      if (!done) break; // stopping while the database is away: leave it uncommitted
      resolveOffset(message.offset);
      const next = batch.messages[i + 1];
      this.oldestUnapplied.set(partition, next ? Number(next.timestamp) : null);
      await heartbeat();
    }
    await commitOffsetsIfNecessary();
  }

  /** @returns false only when the consumer is stopping before the message could be handled. */
  private async handle(
    topic: string,
    partition: number,
    message: KafkaMessage,
    isRunning: () => boolean,
    heartbeat: () => Promise<void>,
  ): Promise<boolean> {
    const { groupId } = this.settings;
    const headers = headerMap(message);
    for (let attempt = 1; ; attempt++) {
      try {
        const event = parseProductEvent(headers, message.value);
        const outcome = await applyEvent(this.pool, groupId, event);
        this.metrics.handled(groupId, event.type, outcome, event.time);
        return true;
      } catch (err) {
        if (err instanceof EventRejectedError || !isRetriable(err)) {
          const code = err instanceof EventRejectedError ? err.code : 'UNHANDLED';
          await this.deadLetter(
            topic,
            partition,
            message,
            headers,
            code,
            (err as Error).message,
            isRunning,
            heartbeat,
          );
          this.metrics.handled(groupId, headers.ce_type ?? 'unknown', 'dead_lettered');
          this.log.warn(
            { topic, partition, offset: message.offset, code, err: (err as Error).message },
            'event sent to the dead-letter topic',
          );
          return true;
        }
        const delay = Math.min(
          this.settings.retryMaxMs,
          this.settings.retryBaseMs * 2 ** Math.min(attempt - 1, 16),
        );
        this.log.warn(
          {
            topic,
            partition,
            offset: message.offset,
            attempt,
            retryInMs: delay,
            err: (err as Error).message,
          },
          'event failed, will retry',
        );
        if (!(await this.pause(delay, isRunning, heartbeat))) return false;
      }
    }
  }

  private async deadLetter(
    topic: string,
    partition: number,
    message: KafkaMessage,
    headers: Record<string, string>,
    code: string,
    reason: string,
    isRunning: () => boolean,
    heartbeat: () => Promise<void>,
  ): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await sendToDeadLetter(this.producer, this.settings.dlqTopic, {
          topic,
          partition,
          offset: message.offset,
          key: message.key,
          value: message.value,
          headers,
          code,
          message: reason,
        });
        return;
      } catch (err) {
        // Not committing past a message that is in neither the read model nor the DLQ.
        this.log.warn({ err: (err as Error).message, attempt }, 'dead-letter topic unavailable, will retry');
        if (!(await this.pause(Math.min(this.settings.retryMaxMs, 500 * attempt), isRunning, heartbeat))) {
          throw new Error(
            `stopped before event at ${topic}/${partition}@${message.offset} reached the dead-letter topic`,
            { cause: err },
          );
        }
      }
    }
  }

  private async pause(
    ms: number,
    isRunning: () => boolean,
    heartbeat: () => Promise<void>,
  ): Promise<boolean> {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      if (!isRunning() || !this.running) return false;
      await sleep(Math.min(500, until - Date.now()));
      await heartbeat().catch(() => undefined);
    }
    return isRunning() && this.running;
  }

  /** Lag per partition from Kafka (committed vs log end) and, for seconds, the oldest unapplied message. */
  async refreshLag(): Promise<void> {
    const { groupId, topic, startFrom } = this.settings;
    const lags = await describeLag(this.admin, groupId, topic, startFrom);
    this.metrics.setLag(groupId, lags, (partition) => this.oldestUnapplied.get(partition));
  }
}
