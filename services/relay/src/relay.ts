import type { Logger } from '@shopstream/shared';
import { backoffMs } from '@shopstream/shared';
import type { KafkaPublisher } from './kafka-publisher.js';
import type { RelayMetrics } from './metrics.js';
import type { OutboxListener } from './outbox-listener.js';
import type { OutboxStore } from './outbox-store.js';
import { claimBatch, sendBatch, settleBatch } from './relay-loop.js';
import type { ClaimedBatch, RelaySettings, SentBatch } from './relay-loop.js';
import { monotonicMs } from './shard-ownership.js';
import type { ShardOwnership } from './shard-ownership.js';

/** Periodic upkeep that never gates the publish loop (partitions, purges). */
export interface RelayMaintenance {
  run(): Promise<unknown>;
}

export interface RelayDeps {
  ownership: ShardOwnership;
  store: OutboxStore;
  publisher: KafkaPublisher;
  maintenance?: RelayMaintenance;
  listener?: OutboxListener;
  metrics: RelayMetrics;
  log: Logger;
}

export interface RelayTimings extends RelaySettings {
  pollIntervalMs: number;
  heartbeatMs: number;
  leaseMs: number;
  maintenanceIntervalMs: number;
  /** First and longest wait of the circuit between Kafka probes (exponential with jitter in between). */
  circuitBaseMs: number;
  circuitMaxMs: number;
  backlogRefreshMs?: number;
}

/** The circuit of DESIGN §4: open while Kafka fails for reasons that are not the records'. */
interface Circuit {
  failures: number;
  topics: string[];
  reason: string;
}

/**
 * A running relay: the publish loop (one batch in flight at a time, the next claimed meanwhile, so
 * a row is never sent twice by this process), a heartbeat timer for shard leases, backlog metrics and outbox maintenance. Wakes on
 * NOTIFY for an owned shard, otherwise polls.
 *
 * Broker-level failures open a circuit: the loop stops claiming, waits (exponential, capped,
 * jitter) and probes Kafka's metadata until it answers; no row changes meanwhile, so an outage of
 * any length turns nothing DEAD. Heartbeats renew leases only while the loop makes progress (an
 * iteration stuck past a lease lets the leases lapse, and peers take over); readiness says the
 * same. `stop()` finishes the in-flight batch, then releases every shard so a peer takes over at once.
 */
export class Relay {
  private stopping = false;
  private loopDone: Promise<void> = Promise.resolve();
  private wakeUp: (() => void) | undefined;
  /** A NOTIFY arrived since the last claim: do not sleep before the next one. */
  private woken = false;
  private timers: NodeJS.Timeout[] = [];
  private circuit: Circuit | undefined;
  /** Monotonic time the current iteration started; undefined while the loop waits. */
  private busySince: number | undefined;
  private selfFenced = false;
  /** Whether the outbox's statistics were checked, at the first full batch. */
  private statisticsChecked = false;

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

  /** The loop is not stuck in one iteration for longer than a lease: what /readyz reports. */
  get progressing(): boolean {
    return this.busySince === undefined || monotonicMs() - this.busySince < this.timings.leaseMs;
  }

  get circuitOpen(): boolean {
    return this.circuit !== undefined;
  }

  async start(): Promise<void> {
    const { ownership, publisher, maintenance, log } = this.deps;
    await ownership.ensureShardRows();
    await publisher.connect();
    await this.heartbeat();
    this.every(this.timings.heartbeatMs, () => this.heartbeat());
    this.every(this.timings.backlogRefreshMs ?? 5_000, () => this.refreshBacklog());
    if (maintenance) {
      // Start-up never waits for maintenance (DESIGN §2): it runs in the background, first soon.
      const run = (): Promise<void> => maintenance.run().then(() => undefined);
      setTimeout(() => void run().catch((err: unknown) => log.warn({ err }, 'outbox maintenance failed')), 0);
      this.every(this.timings.maintenanceIntervalMs, run);
    }
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
    if (!this.progressing) {
      this.deps.log.error(
        { busyForMs: Math.round(monotonicMs() - (this.busySince ?? 0)) },
        'publish loop made no progress for a whole lease: not renewing leases, so peers take the shards over',
      );
      return;
    }
    const owned = await this.deps.ownership.heartbeat();
    this.deps.metrics.ownedShards.set(owned.size);
  }

  private async refreshBacklog(): Promise<void> {
    this.deps.metrics.setBacklog(await this.deps.store.backlog(this.deps.ownership.shards));
  }

  /**
   * The publish loop, overlapped: while one batch is on its way to Kafka, the previous batch's
   * outcome is written to the outbox and the next batch is claimed, none of the products in flight.
   * Sends stay one after another on the one producer, and a product's next events are claimed only
   * once its earlier ones are settled or certainly ahead of them on the wire, so per-product order
   * holds; a batch whose products failed is never followed by their later events in the same run.
   * An environment error stops everything at once: the batch claimed meanwhile is let go unchanged.
   */
  private async loop(): Promise<void> {
    const { log } = this.deps;
    let errorDelay = this.timings.pollIntervalMs;
    /** Sent, outcomes not yet written to the outbox, oldest first; kept across a failed write, to try again. */
    const unsettled: SentBatch[] = [];
    /** Claimed while the batch before it was being sent; not sent yet. */
    let next: ClaimedBatch | undefined;
    const { metrics } = this.deps;
    const settle = async (): Promise<void> => {
      for (let sent = unsettled[0]; sent; sent = unsettled[0]) {
        await metrics.timed('settle', () => settleBatch(this.deps, this.timings, sent));
        unsettled.shift();
      }
    };
    const claim = async (busy?: string[]): Promise<ClaimedBatch> => {
      const claimed = await metrics.timed('claim', () => claimBatch(this.deps, this.timings, busy));
      if (claimed.events.length === this.timings.batchSize) await this.checkStatistics();
      return claimed;
    };
    while (!this.stopping) {
      try {
        if (this.circuit) {
          await this.sleep(this.circuitDelay(this.circuit.failures), { ignoreWakeUps: true });
          if (this.stopping) break;
          if (!(await this.probe(this.circuit))) continue;
        }
        this.woken = false;
        this.busySince = monotonicMs();
        if (!next) {
          await settle();
          await this.deps.ownership.releaseExtras();
          next = await claim();
        }
        const current = next;
        next = undefined;
        this.noteSelfFencing(current.selfFenced);
        if (current.events.length === 0) {
          await settle();
          this.busySince = undefined;
          errorDelay = this.timings.pollIntervalMs;
          await this.sleep(this.timings.pollIntervalMs);
          continue;
        }
        const sending = metrics.timed('send', () => sendBatch(this.deps, this.timings, current));
        const preparing = (async () => {
          await settle();
          await this.deps.ownership.releaseExtras(new Set(current.events.map((e) => e.shard)));
          return claim([...new Set(current.events.map((e) => e.aggregateId))]);
        })();
        const [sent, claimed] = await Promise.allSettled([sending, preparing]);
        if (sent.status === 'rejected') throw sent.reason;
        unsettled.push(sent.value);
        if (claimed.status === 'rejected') throw claimed.reason;
        this.busySince = undefined;
        errorDelay = this.timings.pollIntervalMs;
        this.noteSelfFencing(sent.value.selfFenced);
        if (sent.value.environmentError) {
          await settle(); // what was acked before the failure is marked
          this.openCircuit(sent.value.environmentError.error, sent.value.environmentError.topics);
          continue;
        }
        next = claimed.value;
      } catch (err) {
        this.busySince = undefined;
        log.warn({ err, retryInMs: errorDelay }, 'relay iteration failed');
        await this.sleep(errorDelay);
        errorDelay = Math.min(errorDelay * 2, 10_000);
      }
    }
    // The last batch's acks are written before stop() gives the shards back.
    await settle().catch((err: unknown) =>
      log.warn({ err }, 'could not mark the last batch; it will be published again'),
    );
  }

  /** Once per process, at the first full batch: a burst into a never-analyzed outbox gets statistics. */
  private async checkStatistics(): Promise<void> {
    if (this.statisticsChecked) return;
    this.statisticsChecked = true;
    try {
      if (await this.deps.store.analyzeIfNeverAnalyzed())
        this.deps.log.info('outbox had no statistics yet: analyzed it for the backlog at hand');
    } catch (err) {
      this.deps.log.warn({ err }, 'could not analyze the outbox (not its owner?); autovacuum will');
    }
  }

  private circuitDelay(failures: number): number {
    return backoffMs(failures, this.timings.circuitBaseMs, this.timings.circuitMaxMs);
  }

  private openCircuit(error: Error & { reason: string }, topics: string[]): void {
    if (this.circuit) {
      this.circuit.failures += 1;
      this.circuit.reason = error.reason;
      return;
    }
    this.circuit = { failures: 1, topics, reason: error.reason };
    this.deps.metrics.circuitOpen.set(1);
    if (error.reason === 'authentication') {
      // Refused credentials need a person (or a Secret that has not appeared yet): an error, with the
      // sentence the publisher wrote naming the user, not a warning about an outage.
      this.deps.log.error(
        { err: error, reason: error.reason, topics },
        `Kafka authentication failed: ${error.message}; circuit open, no row changes, probing with backoff`,
      );
      return;
    }
    this.deps.log.warn(
      { err: error, reason: error.reason, topics },
      "Kafka is failing for reasons that are not the records': circuit open, no row changes, probing with backoff",
    );
  }

  /** Half-open: asks Kafka for metadata only; closes the circuit if it answers. */
  private async probe(circuit: Circuit): Promise<boolean> {
    try {
      await this.deps.publisher.probe(circuit.topics);
    } catch (err) {
      circuit.failures += 1;
      if (circuit.failures % 10 === 0) {
        this.deps.log.warn(
          { err, failures: circuit.failures, nextProbeInMs: this.circuitDelay(circuit.failures) },
          'Kafka still failing; circuit stays open',
        );
      }
      return false;
    }
    this.deps.log.info(
      { failures: circuit.failures },
      'Kafka answers again: circuit closed, publishing resumes',
    );
    this.circuit = undefined;
    this.deps.metrics.circuitOpen.set(0);
    return true;
  }

  private noteSelfFencing(selfFenced: boolean): void {
    if (selfFenced && !this.selfFenced) {
      this.deps.log.warn(
        { leaseRemainingMs: Math.round(this.deps.ownership.leaseRemainingMs()) },
        'shard leases may lapse before a send could finish: not claiming or sending until a heartbeat renews them',
      );
    } else if (!selfFenced && this.selfFenced) {
      this.deps.log.info('leases renewed: claiming and sending again');
    }
    this.selfFenced = selfFenced;
  }

  /** Waits `ms`, or less if a notification arrives (or arrived during the last batch). */
  private sleep(ms: number, options: { ignoreWakeUps?: boolean } = {}): Promise<void> {
    if (this.stopping || (this.woken && !options.ignoreWakeUps)) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = options.ignoreWakeUps ? () => this.stopping && done() : done;
    });
  }
}
