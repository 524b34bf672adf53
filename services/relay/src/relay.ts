import type { Pool } from 'pg';
import type { Logger } from '@shopstream/shared';
import type { KafkaPublisher } from './kafka-publisher.js';
import type { RelayMetrics } from './metrics.js';
import type { OutboxListener } from './outbox-listener.js';
import type { OutboxStore } from './outbox-store.js';
import { relayOnce } from './relay-loop.js';
import type { RelaySettings } from './relay-loop.js';
import type { OutboxRetention } from './retention.js';
import type { ShardOwnership } from './shard-ownership.js';

export interface RelayDeps {
  pool: Pool;
  ownership: ShardOwnership;
  store: OutboxStore;
  publisher: KafkaPublisher;
  retention: OutboxRetention;
  listener?: OutboxListener;
  metrics: RelayMetrics;
  log: Logger;
}

export interface RelayTimings extends RelaySettings {
  pollIntervalMs: number;
  heartbeatMs: number;
  maintenanceIntervalMs: number;
  retentionHours: number;
  backlogRefreshMs?: number;
}

/**
 * A running relay: the publish loop (sequential, so a batch is never processed twice by this
 * process), a heartbeat timer for shard leases, backlog metrics and partition maintenance. Wakes on
 * NOTIFY for an owned shard, otherwise polls. `stop()` finishes the in-flight batch, then releases
 * every shard so a peer takes over at once.
 */
export class Relay {
  private stopping = false;
  private loopDone: Promise<void> = Promise.resolve();
  private wakeUp: (() => void) | undefined;
  /** A NOTIFY arrived since the last claim: do not sleep before the next one. */
  private woken = false;
  private timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly deps: RelayDeps,
    private readonly timings: RelayTimings,
  ) {}

  /** Called by the listener: wake the loop if the notified shard is ours (or unknown). */
  notify(shard: number | undefined): void {
    if (shard === undefined || this.deps.ownership.shards.has(shard)) {
      this.woken = true;
      this.wakeUp?.();
    }
  }

  async start(): Promise<void> {
    const { ownership, publisher, retention, log } = this.deps;
    await ownership.ensureShardRows();
    await publisher.connect();
    await retention.maintain({ retentionHours: this.timings.retentionHours });
    await this.heartbeat();
    this.every(this.timings.heartbeatMs, () => this.heartbeat());
    this.every(this.timings.backlogRefreshMs ?? 5_000, () => this.refreshBacklog());
    this.every(this.timings.maintenanceIntervalMs, async () => {
      await retention.maintain({ retentionHours: this.timings.retentionHours });
    });
    this.deps.listener?.start();
    this.loopDone = this.loop();
    log.info({ shards: [...ownership.shards.keys()] }, 'relay started');
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const t of this.timers) clearInterval(t);
    this.wakeUp?.();
    await this.loopDone;
    await this.deps.listener?.stop();
    await this.deps.ownership
      .releaseAll()
      .catch((err: unknown) => this.deps.log.warn({ err }, 'could not release shards'));
    await this.deps.publisher.disconnect();
    this.deps.log.info('relay stopped');
  }

  private every(ms: number, task: () => Promise<void>): void {
    let running = false;
    this.timers.push(
      setInterval(() => {
        if (running || this.stopping) return;
        running = true;
        task()
          .catch((err: unknown) => this.deps.log.warn({ err }, 'relay background task failed'))
          .finally(() => (running = false));
      }, ms),
    );
  }

  private async heartbeat(): Promise<void> {
    const owned = await this.deps.ownership.heartbeat();
    this.deps.metrics.ownedShards.set(owned.size);
  }

  private async refreshBacklog(): Promise<void> {
    this.deps.metrics.setBacklog(await this.deps.store.backlog(this.deps.ownership.shards));
  }

  private async loop(): Promise<void> {
    let errorDelay = this.timings.pollIntervalMs;
    while (!this.stopping) {
      try {
        this.woken = false;
        const result = await relayOnce(this.deps, this.timings);
        errorDelay = this.timings.pollIntervalMs;
        // A full batch means more is waiting: go again at once.
        if (result.claimed === this.timings.batchSize && result.failed === 0) continue;
        await this.sleep(this.timings.pollIntervalMs);
      } catch (err) {
        this.deps.log.warn({ err, retryInMs: errorDelay }, 'relay iteration failed');
        await this.sleep(errorDelay);
        errorDelay = Math.min(errorDelay * 2, 10_000);
      }
    }
  }

  /** Waits `ms`, or less if a notification arrives (or arrived during the last batch). */
  private sleep(ms: number): Promise<void> {
    if (this.woken || this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = done;
    });
  }
}
