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
    releaseExtras(): Promise<void>;
    /** How long (ms, monotonic) the leases last renewed are certainly still ours. */
    leaseRemainingMs(): number;
    drop(shards: Iterable<number>, epochs: OwnedShards): Promise<void>;
  };
  store: {
    claim(owned: OwnedShards, limit: number): Promise<PendingEvent[]>;
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

const idle = (selfFenced = false): IterationResult => ({
  claimed: 0,
  published: 0,
  failed: 0,
  fencedOff: 0,
  selfFenced,
});

/**
 * One pass of DESIGN §4 — the only code path that publishes outbox events: give back extra shards,
 * claim due rows of the owned shards, publish them, and record the outcome. Failures are split by
 * fault: a record's own fault (too large, found before sending, or refused for its content) counts
 * an attempt, retried one record at a time so a poison event fails alone; the environment's fault
 * changes no row and is returned, for the caller's circuit. A product whose event failed or was held
 * back publishes none of its later events in this pass. No claim and no send starts unless the
 * leases will certainly outlive the send (self-fencing on a monotonic clock).
 */
export async function relayOnce(ports: RelayPorts, settings: RelaySettings): Promise<IterationResult> {
  await ports.ownership.releaseExtras();
  const leaseCovers = (): boolean =>
    ports.ownership.leaseRemainingMs() > settings.sendTimeoutMs + settings.fenceMarginMs;
  if (!leaseCovers()) return idle(ports.ownership.shards.size > 0);
  const owned = new Map(ports.ownership.shards);
  const batch = await ports.store.claim(owned, settings.batchSize);
  if (batch.length === 0) return idle();

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
    if (!leaseCovers()) return undefined;
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
  for (const event of batch) {
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

  const marked = await ports.store.markPublished(owned, published);
  const lost = published.filter((p) => !marked.has(p.id));
  if (lost.length > 0) {
    const shardOf = new Map(batch.map((e) => [e.id, e.shard]));
    const shards = new Set(lost.map((p) => shardOf.get(p.id)!));
    ports.log.warn(
      { fencedOff: lost.length, shards: [...shards] },
      'published events could not be marked: their shard moved to another relay; dropping those shards',
    );
    await ports.ownership.drop(shards, owned);
  }
  const dead = await ports.store.markFailed(owned, failed, settings.maxAttempts);
  for (const id of dead)
    ports.log.error({ eventId: id }, 'outbox event is DEAD after its last attempt; its product waits');
  return {
    claimed: batch.length,
    published: published.length,
    failed: failed.length,
    fencedOff: lost.length,
    ...(environmentError ? { environmentError } : {}),
    selfFenced,
  };
}
