import type { Logger } from '@shopstream/shared';
import { backoffMs } from '@shopstream/shared';
import { recordBytes } from './kafka-publisher.js';
import type { PublishOutcome } from './kafka-publisher.js';
import { PublishError, isRecordFault } from './publish-failure.js';
import type { PublishFailureReason } from './publish-failure.js';
import type { FailedEvent, PendingEvent, PublishedEvent } from './outbox-store.js';
import type { OwnedShards } from './shard-ownership.js';

/** What one iteration needs from the outside world: the ports of the relay. */
export interface RelayPorts {
  ownership: {
    readonly shards: OwnedShards;
    /** The shards whose rows may be claimed: owned ones not on their way to another relay. */
    readonly claimable: OwnedShards;
    /** Gives back shards beyond the fair share, never one in `busy` (rows of it are in flight). */
    releaseExtras(busy?: ReadonlySet<number>): Promise<void>;
    /** How long (ms, monotonic) the leases last renewed are certainly still ours. */
    leaseRemainingMs(): number;
    drop(shards: Iterable<number>, epochs: OwnedShards): Promise<void>;
  };
  store: {
    claim(
      owned: OwnedShards,
      limit: number,
      busy?: readonly string[],
      maxBytes?: number,
    ): Promise<PendingEvent[]>;
    markPublished(owned: OwnedShards, published: PublishedEvent[]): Promise<Set<string>>;
    markFailed(owned: OwnedShards, failed: FailedEvent[], maxAttempts: number): Promise<string[]>;
  };
  publisher: { publish(events: PendingEvent[]): Promise<PublishOutcome> };
  metrics: {
    published(events: PendingEvent[], ackedAt: Date): void;
    failed(reason: PublishFailureReason, count: number): void;
  };
  log: Logger;
}

export interface RelaySettings {
  batchSize: number;
  /** A batch ends where its payloads would pass this many bytes (one record at least). */
  batchMaxBytes: number;
  maxAttempts: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Deadline of one send; a send starts only with at least this much lease (+ margin) left. */
  sendTimeoutMs: number;
  /** Safety margin on top of the send deadline before the lease ends (clock rate, scheduling). */
  fenceMarginMs: number;
  /** Records larger than this are the record's fault, found before sending. */
  maxRecordBytes: number;
}

export interface IterationResult {
  claimed: number;
  published: number;
  /** Rows whose attempt was counted: the record's own fault. */
  failed: number;
  /** Acked by Kafka but no longer ours to mark (shard taken over meanwhile): will be published again. */
  fencedOff: number;
  /** The broker's or network's fault: no row changed; the relay's circuit opens. */
  environmentError?: { error: PublishError; topics: string[] };
  /** The leases may lapse before a send could finish: nothing was claimed or sent. */
  selfFenced: boolean;
}

/** Rows claimed together, with the shard epochs they were claimed under. */
export interface ClaimedBatch {
  owned: OwnedShards;
  events: PendingEvent[];
  /** The leases might lapse before a send could finish: nothing was claimed. */
  selfFenced: boolean;
}

/** A batch after its send: what Kafka acked and what failed, not yet written to the outbox. */
export interface SentBatch {
  claimed: ClaimedBatch;
  published: PublishedEvent[];
  failed: FailedEvent[];
  environmentError?: IterationResult['environmentError'];
  selfFenced: boolean;
  /** The acked rows are marked (settling again, after a failure later on, must not mark them twice). */
  marked?: { count: number; lost: number };
}

const leaseCovers = (ports: RelayPorts, settings: RelaySettings): boolean =>
  ports.ownership.leaseRemainingMs() > settings.sendTimeoutMs + settings.fenceMarginMs;

/**
 * Claims due rows of the owned shards (DESIGN §4 step 2), none of the products in `busy`. Claims
 * nothing unless the leases will certainly outlive a send (self-fencing on a monotonic clock).
 */
export async function claimBatch(
  ports: RelayPorts,
  settings: RelaySettings,
  busy: readonly string[] = [],
): Promise<ClaimedBatch> {
  const owned = new Map(ports.ownership.claimable);
  if (!leaseCovers(ports, settings))
    return { owned, events: [], selfFenced: ports.ownership.shards.size > 0 };
  const events = await ports.store.claim(owned, settings.batchSize, busy, settings.batchMaxBytes);
  return { owned, events, selfFenced: false };
}

/**
 * Publishes a claimed batch (step 3) and sorts the outcome by fault, changing no row: a record's
 * own fault (too large, found before sending, or refused for its content) becomes a failed attempt,
 * found one record at a time so a poison event fails alone; the environment's fault is returned for
 * the caller's circuit. A product whose event failed or was held back sends none of its later
 * events. Rows of shards this relay no longer holds at the claimed epoch are left out.
 */
export async function sendBatch(
  ports: RelayPorts,
  settings: RelaySettings,
  claimed: ClaimedBatch,
): Promise<SentBatch> {
  const published: PublishedEvent[] = [];
  const failed: FailedEvent[] = [];
  let environmentError: IterationResult['environmentError'];
  const held = new Set<string>(); // products with an earlier event failed or held back in this pass
  const recordFailure = (event: PendingEvent, err: PublishError): void => {
    ports.metrics.failed(err.reason, 1);
    held.add(event.aggregateId);
    failed.push({
      id: event.id,
      error: `${err.reason}: ${err.message}`,
      retryInMs: backoffMs(event.attempts + 1, settings.backoffBaseMs, settings.backoffMaxMs),
    });
  };
  const environmentFailure = (events: PendingEvent[], err: PublishError): void => {
    ports.metrics.failed(err.reason, events.length);
    for (const e of events) held.add(e.aggregateId);
    environmentError ??= { error: err, topics: [] };
    for (const t of new Set(events.map((e) => e.topic))) {
      if (!environmentError.topics.includes(t)) environmentError.topics.push(t);
    }
  };
  const send = async (events: PendingEvent[]): Promise<PublishOutcome | undefined> => {
    // Checked again here: the process may have been paused between the claim and now.
    if (!leaseCovers(ports, settings)) return undefined;
    const outcome = await ports.publisher.publish(events);
    const ackedAt = new Date();
    const acked = new Set(outcome.published.map((p) => p.id));
    ports.metrics.published(
      events.filter((e) => acked.has(e.id)),
      ackedAt,
    );
    published.push(...outcome.published);
    return outcome;
  };

  const toSend: PendingEvent[] = [];
  for (const event of claimed.events) {
    // A shard given back or dropped since the claim: its new owner publishes the row.
    if (ports.ownership.shards.get(event.shard) !== claimed.owned.get(event.shard)) {
      held.add(event.aggregateId);
      continue;
    }
    if (held.has(event.aggregateId)) continue;
    const bytes = recordBytes(event);
    if (bytes > settings.maxRecordBytes) {
      recordFailure(
        event,
        new PublishError(
          `record of ${bytes} bytes is larger than RELAY_MAX_RECORD_BYTES (${settings.maxRecordBytes}); not sent`,
          'message_too_large',
        ),
      );
    } else {
      toSend.push(event);
    }
  }

  let selfFenced = false;
  const outcome = toSend.length > 0 ? await send(toSend) : { published: [], failed: [] };
  if (!outcome) selfFenced = true;
  for (const { events, error } of outcome?.failed ?? []) {
    if (!isRecordFault(error.reason)) {
      environmentFailure(events, error);
      continue;
    }
    if (events.length === 1) {
      recordFailure(events[0]!, error);
      continue;
    }
    ports.log.warn(
      { reason: error.reason, events: events.length },
      'batch refused for its records; publishing one by one',
    );
    for (const event of events) {
      if (environmentError) break; // the broker went away meanwhile: the circuit decides what next
      if (held.has(event.aggregateId)) continue; // its earlier event failed: keep the order
      const single = await send([event]);
      if (!single) {
        selfFenced = true;
        break;
      }
      const singleFailure = single.failed[0];
      if (!singleFailure) continue;
      if (isRecordFault(singleFailure.error.reason)) recordFailure(event, singleFailure.error);
      else environmentFailure([event], singleFailure.error);
    }
  }
  return { claimed, published, failed, ...(environmentError ? { environmentError } : {}), selfFenced };
}

/**
 * Writes a sent batch's outcome to the outbox (step 4), fenced by the claimed epochs: acked rows
 * PUBLISHED in one statement, failed attempts counted (DEAD after the last). Acked rows it may no
 * longer mark prove their shard moved on: those shards are dropped at once. Safe to call again
 * after it failed: rows already marked are not marked again (nor taken for a lost shard).
 */
export async function settleBatch(
  ports: RelayPorts,
  settings: RelaySettings,
  sent: SentBatch,
): Promise<IterationResult> {
  const { owned, events } = sent.claimed;
  if (!sent.marked) {
    const marked = await ports.store.markPublished(owned, sent.published);
    const lost = sent.published.filter((p) => !marked.has(p.id));
    if (lost.length > 0) {
      const shardOf = new Map(events.map((e) => [e.id, e.shard]));
      const shards = new Set(lost.map((p) => shardOf.get(p.id)!));
      ports.log.warn(
        { fencedOff: lost.length, shards: [...shards] },
        'published events could not be marked: their shard moved to another relay; dropping those shards',
      );
      await ports.ownership.drop(shards, owned);
    }
    sent.marked = { count: marked.size, lost: lost.length };
  }
  const dead = await ports.store.markFailed(owned, sent.failed, settings.maxAttempts);
  for (const id of dead)
    ports.log.error({ eventId: id }, 'outbox event is DEAD after its last attempt; its product waits');
  return {
    claimed: events.length,
    published: sent.published.length,
    failed: sent.failed.length,
    fencedOff: sent.marked.lost,
    ...(sent.environmentError ? { environmentError: sent.environmentError } : {}),
    selfFenced: sent.selfFenced,
  };
}
