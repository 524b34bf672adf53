import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@shopstream/shared';
import type { DeadLetter } from './dead-letter.js';
import { parseProductEvent } from './event-envelope.js';
import type { ProductEvent } from './event-envelope.js';
import { classifyFailure, describeError, sqlStateOf } from './event-errors.js';
import type { ApplyOutcome } from './inbox.js';
import type { ConsumerMetrics } from './metrics.js';
import { backoffDelay } from './retry-backoff.js';

/** One Kafka record as the consumer received it. */
export interface ConsumedRecord {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

/**
 * What became of a record. Every outcome but `handed_over` lets the offset be resolved;
 * `handed_over` means the record is in neither the read model nor the DLQ and must stay uncommitted.
 */
export type RecordOutcome = ApplyOutcome | 'dead_lettered' | 'handed_over';

/** The two effects a record can have, behind ports so the retry logic can be tested without I/O. */
export interface RecordPorts {
  /** The inbox transaction (`applyEvent`): the only way an event takes effect. */
  apply(event: ProductEvent): Promise<ApplyOutcome>;
  /** Resolves once the dead-letter topic acknowledged the record. */
  deadLetter(letter: DeadLetter): Promise<void>;
}

export interface RecordProcessorSettings {
  groupId: string;
  retryBaseMs: number;
  retryMaxMs: number;
  /** How often a "still blocked" line repeats while one event keeps failing. */
  blockedLogIntervalMs: number;
}

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
  random(): number;
}

const systemClock: Clock = { now: () => Date.now(), sleep: (ms) => sleep(ms), random: Math.random };

/** While blocked, the stop conditions are checked at least this often. */
const STOP_CHECK_MS = 200;

interface Blocked {
  since: number;
  attempts: number;
  cause: string;
  sqlState?: string;
  loggedAt: number;
}

/**
 * The one code path for a record: parse it, apply it through the inbox; if the event is at fault
 * itself (`EventRejectedError`), send it to the DLQ. Any other failure — of the database, of the
 * DLQ, a bug — is the environment's: the same record is tried again, with capped exponential
 * backoff and jitter, for as long as it takes; meanwhile `shopstream_consumer_blocked` is 1 and the
 * cause is logged when the block starts, periodically, and when it clears. It returns only with the
 * record applied, judged (duplicate, stale) or dead-lettered — or `handed_over` once `keepGoing`
 * says the partition is no longer ours (revoked, stale batch, stopping).
 */
export class RecordProcessor {
  private readonly blocked = new Map<string, Blocked>();

  constructor(
    private readonly settings: RecordProcessorSettings,
    private readonly ports: RecordPorts,
    private readonly metrics: ConsumerMetrics,
    private readonly log: Logger,
    private readonly clock: Clock = systemClock,
  ) {}

  async process(record: ConsumedRecord, keepGoing: () => boolean): Promise<RecordOutcome> {
    for (let attempt = 1; ; attempt++) {
      try {
        const outcome = await this.attempt(record);
        this.unblock(record, outcome);
        return outcome;
      } catch (err) {
        // attempt() dead-letters what the event is at fault for: whatever reaches here is environmental.
        const retryInMs = backoffDelay(
          attempt,
          this.settings.retryBaseMs,
          this.settings.retryMaxMs,
          this.clock.random,
        );
        this.block(record, attempt, describeError(err), sqlStateOf(err), retryInMs);
        if (!(await this.pause(retryInMs, keepGoing))) {
          this.handOver(record);
          return 'handed_over';
        }
      }
    }
  }

  /** One try. @throws the environment's errors; the event's own fault ends here, in the DLQ. */
  private async attempt(record: ConsumedRecord): Promise<RecordOutcome> {
    const { groupId } = this.settings;
    let event: ProductEvent;
    let outcome: ApplyOutcome;
    try {
      event = parseProductEvent(record.headers, record.value);
      outcome = await this.ports.apply(event);
    } catch (err) {
      const failure = classifyFailure(err);
      if (failure.kind !== 'rejected') throw err;
      const { code, message } = failure.error;
      await this.ports.deadLetter({ ...record, code, message });
      this.metrics.deadLettered(groupId, record.headers.ce_type ?? 'unknown', code);
      this.log.warn(
        {
          topic: record.topic,
          partition: record.partition,
          offset: record.offset,
          eventId: record.headers.ce_id,
          code,
          err: message,
        },
        'event sent to the dead-letter topic',
      );
      return 'dead_lettered';
    }
    this.metrics.handled(groupId, event.type, outcome, event.time);
    return outcome;
  }

  private where(record: ConsumedRecord): Record<string, unknown> {
    return {
      groupId: this.settings.groupId,
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
      eventId: record.headers.ce_id,
      eventType: record.headers.ce_type,
    };
  }

  private block(
    record: ConsumedRecord,
    attempts: number,
    cause: string,
    sqlState: string | undefined,
    retryInMs: number,
  ): void {
    const key = `${record.topic}/${record.partition}`;
    const now = this.clock.now();
    const known = this.blocked.get(key);
    if (!known) {
      this.blocked.set(key, { since: now, attempts, cause, sqlState, loggedAt: now });
      this.metrics.setBlocked(this.settings.groupId, true);
      this.log.warn(
        { ...this.where(record), cause, sqlState, retryInMs },
        'consumer blocked: an environmental error stops this event; retrying it, committing nothing',
      );
      return;
    }
    Object.assign(known, { attempts, cause, sqlState });
    if (now - known.loggedAt >= this.settings.blockedLogIntervalMs) {
      known.loggedAt = now;
      this.log.error(
        { ...this.where(record), cause, sqlState, attempts, blockedForMs: now - known.since, retryInMs },
        'consumer still blocked',
      );
    } else {
      this.log.debug({ ...this.where(record), cause, attempts, retryInMs }, 'event failed, will retry');
    }
  }

  private unblock(record: ConsumedRecord, outcome: RecordOutcome): void {
    const known = this.release(record);
    if (!known) return;
    this.log.info(
      {
        ...this.where(record),
        outcome,
        attempts: known.attempts + 1,
        blockedForMs: this.clock.now() - known.since,
        lastCause: known.cause,
      },
      'consumer unblocked: the event went through',
    );
  }

  private handOver(record: ConsumedRecord): void {
    const known = this.release(record);
    this.log.warn(
      {
        ...this.where(record),
        attempts: known?.attempts,
        blockedForMs: known ? this.clock.now() - known.since : undefined,
        cause: known?.cause,
      },
      'consumer blocked: stopped retrying and left the event uncommitted (partition revoked or consumer stopping)',
    );
  }

  private release(record: ConsumedRecord): Blocked | undefined {
    const key = `${record.topic}/${record.partition}`;
    const known = this.blocked.get(key);
    if (!known) return undefined;
    this.blocked.delete(key);
    this.metrics.setBlocked(this.settings.groupId, this.blocked.size > 0);
    return known;
  }

  /** Waits `ms`, checking `keepGoing` every STOP_CHECK_MS. @returns false as soon as it says stop. */
  private async pause(ms: number, keepGoing: () => boolean): Promise<boolean> {
    const until = this.clock.now() + ms;
    for (let left = ms; left > 0; left = until - this.clock.now()) {
      if (!keepGoing()) return false;
      await this.clock.sleep(Math.min(STOP_CHECK_MS, left));
    }
    return keepGoing();
  }
}
