import type { Logger } from '@shopstream/shared';
import { backoffMs } from './backoff.js';
import { PublishError } from './kafka-publisher.js';
import type { PublishFailureReason } from './kafka-publisher.js';
import type { FailedEvent, PendingEvent, PublishedEvent } from './outbox-store.js';
import type { OwnedShards } from './shard-ownership.js';

/** What one iteration needs from the outside world: the ports of the relay. */
export interface RelayPorts {
  ownership: { readonly shards: OwnedShards; releaseExtras(): Promise<void> };
  store: {
    claim(owned: OwnedShards, limit: number): Promise<PendingEvent[]>;
    markPublished(owned: OwnedShards, published: PublishedEvent[]): Promise<number>;
    markFailed(owned: OwnedShards, failed: FailedEvent[], maxAttempts: number): Promise<string[]>;
  };
  publisher: { publish(events: PendingEvent[]): Promise<PublishedEvent[]> };
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
}

export interface IterationResult {
  claimed: number;
  published: number;
  failed: number;
  /** Acked by Kafka but no longer ours to mark (shard taken over meanwhile): will be published again. */
  fencedOff: number;
}

/**
 * One pass of DESIGN §4: give back extra shards, claim due rows of the owned shards, publish them,
 * and record the outcome — the only code path that publishes outbox events. A failed batch whose
 * records are at fault is retried one record at a time so a poison event fails alone; a product
 * whose event failed publishes none of its later events in this pass.
 */
export async function relayOnce(ports: RelayPorts, settings: RelaySettings): Promise<IterationResult> {
  await ports.ownership.releaseExtras();
  const owned = new Map(ports.ownership.shards);
  const batch = await ports.store.claim(owned, settings.batchSize);
  if (batch.length === 0) return { claimed: 0, published: 0, failed: 0, fencedOff: 0 };

  const published: PublishedEvent[] = [];
  const failed: FailedEvent[] = [];
  const failure = (event: PendingEvent, err: PublishError): FailedEvent => ({
    id: event.id,
    error: `${err.reason}: ${err.message}`,
    retryInMs: backoffMs(event.attempts + 1, settings.backoffBaseMs, settings.backoffMaxMs),
  });

  try {
    published.push(...(await ports.publisher.publish(batch)));
    ports.metrics.published(batch, new Date());
  } catch (err) {
    if (!(err instanceof PublishError)) throw err;
    ports.metrics.failed(err.reason, batch.length);
    if (!err.recordSpecific || batch.length === 1) {
      failed.push(...batch.map((e) => failure(e, err)));
      ports.log.warn(
        { err, reason: err.reason, events: batch.length },
        'publish failed; will retry after backoff',
      );
    } else {
      ports.log.warn(
        { reason: err.reason, events: batch.length },
        'batch refused for its records; publishing one by one',
      );
      const blocked = new Set<string>();
      for (const event of batch) {
        if (blocked.has(event.aggregateId)) continue; // its earlier event failed: keep the order
        try {
          published.push(...(await ports.publisher.publish([event])));
          ports.metrics.published([event], new Date());
        } catch (single) {
          if (!(single instanceof PublishError)) throw single;
          ports.metrics.failed(single.reason, 1);
          failed.push(failure(event, single));
          blocked.add(event.aggregateId);
        }
      }
    }
  }

  const marked = await ports.store.markPublished(owned, published);
  const dead = await ports.store.markFailed(owned, failed, settings.maxAttempts);
  for (const id of dead)
    ports.log.error({ eventId: id }, 'outbox event is DEAD after its last attempt; its product waits');
  const fencedOff = published.length - marked;
  if (fencedOff > 0) {
    ports.log.warn({ fencedOff }, 'published events could not be marked: their shard moved to another relay');
  }
  return { claimed: batch.length, published: published.length, failed: failed.length, fencedOff };
}
