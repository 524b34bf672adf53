import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@shopstream/shared';
import { backoffMs } from '@shopstream/shared';
import type { DeadLetter } from './dead-letter.js';
import { parseProductEvent } from './event-envelope.js';
import type { ProductEvent } from './event-envelope.js';
import { EventRejectedError, classifyFailure, describeError, sqlStateOf } from './event-errors.js';
import type { ApplyOutcome } from './inbox.js';
import type { ConsumerMetrics } from './metrics.js';

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
 * What became of a record: applied, judged (duplicate, stale) or dead-lettered. Each lets its offset
 * be resolved once every earlier record of its partition has an outcome too.
 */
export type RecordOutcome = ApplyOutcome | 'dead_lettered';

/**
 * `handed_over`: the partition stopped being ours (revoked, stale batch, stopping) before every
 * record had an outcome; the records are in neither the read model nor the DLQ for sure, and
 * nothing of them may be committed.
 */
export type BatchOutcome = RecordOutcome[] | 'handed_over';

/** The two effects a record can have, behind ports so the retry logic can be tested without I/O. */
export interface RecordPorts {
  /** The inbox transaction (`applyEvents`): the only way events take effect, all or none. */
  apply(events: readonly ProductEvent[]): Promise<ApplyOutcome[]>;
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

interface ParsedRecord {
  /** Its position in the records `process` was given. */
  index: number;
  event: ProductEvent;
}

interface Blocked {
  since: number;
  attempts: number;
  cause: string;
  sqlState?: string;
  loggedAt: number;
}

/**
 * The one code path for records: parse them, apply them through the inbox; if an event is at fault
 * itself (`EventRejectedError`), send it to the DLQ. Any other failure — of the database, of the
 * DLQ, a bug — is the environment's: the same step is tried again, with capped exponential
 * backoff and jitter, for as long as it takes; meanwhile `shopstream_consumer_blocked` is 1 and the
 * cause is logged when the block starts, periodically, and when it clears. It returns only with
 * every record applied, judged (duplicate, stale) or dead-lettered — or `handed_over` once
 * `keepGoing` says the partition is no longer ours (revoked, stale batch, stopping).
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

  /**
   * Takes records of one partition, in offset order, to an outcome each: parses them, applies the
   * good ones in one inbox transaction, and dead-letters those at fault themselves. If that
   * transaction fails, its events are applied one at a time: an event at fault (its handler's verdict
   * or a data SQLSTATE) is found and dead-lettered; an environmental failure blocks at the first
   * event that meets it and retries that one.
   */
  async process(records: readonly ConsumedRecord[], keepGoing: () => boolean): Promise<BatchOutcome> {
    const outcomes: RecordOutcome[] = [];
    const rejected: { index: number; error: EventRejectedError }[] = [];
    const parsed: ParsedRecord[] = [];
    for (const [index, record] of records.entries()) {
      try {
        parsed.push({ index, event: parseProductEvent(record.headers, record.value) });
      } catch (err) {
        const failure = classifyFailure(err);
        if (failure.kind !== 'rejected') throw err; // parsing does no I/O: a bug, not a record's fault
        rejected.push({ index, error: failure.error });
      }
    }
    const queue = parsed.length > 0 ? [parsed] : [];
    for (let group = queue.shift(); group; group = queue.shift()) {
      const first = records[group[0]!.index]!;
      const result = await this.retrying(first, keepGoing, () => this.applyGroup(group!));
      if (result === 'handed_over') return result;
      if (result === 'split') queue.unshift(...group.map((one) => [one]));
      else if (result instanceof EventRejectedError) rejected.push({ index: group[0]!.index, error: result });
      else {
        for (const [k, { index, event }] of group.entries()) {
          outcomes[index] = result[k]!;
          this.metrics.handled(this.settings.groupId, event.type, result[k]!, event.time);
        }
      }
    }
    for (const { index, error } of rejected.sort((x, y) => x.index - y.index)) {
      const record = records[index]!;
      const sent = await this.retrying(record, keepGoing, () =>
        this.ports.deadLetter({ ...record, code: error.code, message: error.message }),
      );
      if (sent === 'handed_over') return sent;
      outcomes[index] = 'dead_lettered';
      this.metrics.deadLettered(this.settings.groupId, record.headers.ce_type ?? 'unknown', error.code);
      this.log.warn(
        { ...this.where(record), code: error.code, err: error.message },
        'event sent to the dead-letter topic',
      );
    }
    return outcomes;
  }

  /**
   * One try of a group's transaction. @returns the outcomes, the verdict on its event at fault, or
   * `split` when a group of several failed for any reason: applied one event at a time, the same
   * failure either names the event at fault or blocks the partition exactly at the event that meets
   * it (a bug or a trigger that only some rows reach), letting the events before it through.
   */
  private async applyGroup(
    group: readonly ParsedRecord[],
  ): Promise<ApplyOutcome[] | 'split' | EventRejectedError> {
    try {
      return await this.ports.apply(group.map((g) => g.event));
    } catch (err) {
      if (group.length > 1) {
        this.log.debug(
          { groupId: this.settings.groupId, events: group.length, cause: describeError(err) },
          'a chunk failed: applying its events one at a time',
        );
        return 'split';
      }
      const failure = classifyFailure(err);
      if (failure.kind !== 'rejected') throw err;
      return failure.error;
    }
  }

  /**
   * Runs `step` until it succeeds: whatever it throws is the environment's (the record's own fault is
   * a value, never thrown), so it waits with capped exponential backoff and jitter and tries again,
   * with the partition marked blocked at `record`. @returns 'handed_over' once `keepGoing` says stop.
   */
  private async retrying<T>(
    record: ConsumedRecord,
    keepGoing: () => boolean,
    step: () => Promise<T>,
  ): Promise<T | 'handed_over'> {
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await step();
        this.unblock(record);
        return result;
      } catch (err) {
        const retryInMs = backoffMs(
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

  private unblock(record: ConsumedRecord): void {
    const known = this.release(record);
    if (!known) return;
    this.log.info(
      {
        ...this.where(record),
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
