import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { PublishFailureReason } from './publish-failure.js';
import type { Backlog, PendingEvent } from './outbox-store.js';

/**
 * The relay's metrics of DESIGN §6. Backlog gauges are per owned shards (so `sum` over relays is
 * the whole outbox) and are set by the relay on its own schedule: a scrape never runs a query.
 */
export class RelayMetrics {
  readonly registry = new Registry();
  private readonly pending: Gauge;
  private readonly oldestPendingAge: Gauge;
  private readonly dead: Gauge;
  private readonly blocked: Gauge;
  readonly circuitOpen: Gauge;
  private readonly publishedTotal: Counter<'event_type'>;
  private readonly failuresTotal: Counter<'reason'>;
  private readonly commitToAck: Histogram;
  readonly ownedShards: Gauge;
  /** Seconds of each step of the publish loop: where a batch's time goes (claim and settle overlap the send). */
  readonly stepSeconds: Histogram<'step'>;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    this.pending = new Gauge({
      name: 'shopstream_outbox_pending_events',
      help: 'PENDING outbox events in the shards this relay owns (not counting blocked ones)',
      registers,
    });
    this.oldestPendingAge = new Gauge({
      name: 'shopstream_outbox_oldest_pending_age_seconds',
      help: 'Age of the oldest PENDING outbox event in the shards this relay owns',
      registers,
    });
    this.dead = new Gauge({
      name: 'shopstream_outbox_dead_events',
      help: 'DEAD outbox events in the shards this relay owns',
      registers,
    });
    this.blocked = new Gauge({
      name: 'shopstream_outbox_blocked_events',
      help: 'PENDING outbox events in the shards this relay owns held behind a DEAD event of their product',
      registers,
    });
    this.circuitOpen = new Gauge({
      name: 'shopstream_relay_circuit_open',
      help: '1 while broker-level failures pause publishing (no row changes; the relay probes Kafka)',
      registers,
    });
    this.publishedTotal = new Counter({
      name: 'shopstream_outbox_published_total',
      help: 'Outbox events acknowledged by Kafka',
      labelNames: ['event_type'] as const,
      registers,
    });
    this.failuresTotal = new Counter({
      name: 'shopstream_outbox_publish_failures_total',
      help: 'Outbox events whose publish attempt failed, by reason',
      labelNames: ['reason'] as const,
      registers,
    });
    this.commitToAck = new Histogram({
      name: 'shopstream_outbox_commit_to_ack_seconds',
      help: 'Time from the event commit (created_at) to the Kafka acknowledgement',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.stepSeconds = new Histogram({
      name: 'shopstream_relay_step_seconds',
      help: 'Duration of one step of the publish loop for one batch: claim, send (to Kafka) or settle (marking)',
      labelNames: ['step'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.ownedShards = new Gauge({
      name: 'shopstream_relay_owned_shards',
      help: 'Outbox shards this relay currently owns',
      registers,
    });
  }

  setBacklog(backlog: Backlog): void {
    this.pending.set(backlog.pending);
    this.oldestPendingAge.set(backlog.oldestPendingAgeSeconds);
    this.dead.set(backlog.dead);
    this.blocked.set(backlog.blocked);
  }

  published(events: PendingEvent[], ackedAt: Date): void {
    const byType = new Map<string, number>();
    for (const e of events) {
      byType.set(e.eventType, (byType.get(e.eventType) ?? 0) + 1);
      this.commitToAck.observe(Math.max(0, (ackedAt.getTime() - e.createdAt.getTime()) / 1000));
    }
    for (const [eventType, n] of byType) this.publishedTotal.inc({ event_type: eventType }, n);
  }

  /** Runs `work` as one `step` of the loop, timing it. */
  async timed<T>(step: 'claim' | 'send' | 'settle', work: () => Promise<T>): Promise<T> {
    const end = this.stepSeconds.startTimer({ step });
    try {
      return await work();
    } finally {
      end();
    }
  }

  failed(reason: PublishFailureReason, count: number): void {
    this.failuresTotal.inc({ reason }, count);
  }
}
