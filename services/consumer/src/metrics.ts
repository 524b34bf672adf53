import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { PartitionLag } from '@shopstream/shared';

export type EventOutcome = 'applied' | 'duplicate' | 'stale' | 'dead_lettered';

/** The consumer's metrics of DESIGN §6. */
export class ConsumerMetrics {
  readonly registry = new Registry();
  readonly lagMessages: Gauge<'group' | 'topic' | 'partition'>;
  readonly lagSeconds: Gauge<'group' | 'topic' | 'partition'>;
  private readonly events: Counter<'group' | 'event_type' | 'outcome'>;
  private readonly endToEnd: Histogram<'group'>;
  private readonly blocked: Gauge<'group'>;
  private readonly waitingForTopic: Gauge<'group' | 'topic'>;
  private readonly dlqEvents: Counter<'group' | 'code'>;
  private readonly inboxPurgedRows: Counter<'group'>;
  private readonly inboxOldestAge: Gauge<'group'>;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    this.lagMessages = new Gauge({
      name: 'shopstream_consumer_lag_messages',
      help: 'Log-end offset minus the group committed offset, per partition',
      labelNames: ['group', 'topic', 'partition'] as const,
      registers,
    });
    this.lagSeconds = new Gauge({
      name: 'shopstream_consumer_lag_seconds',
      help: 'Age of the oldest message not yet consumed, per partition (0 when caught up)',
      labelNames: ['group', 'topic', 'partition'] as const,
      registers,
    });
    this.events = new Counter({
      name: 'shopstream_consumer_events_total',
      help: 'Events handled, by type and outcome',
      labelNames: ['group', 'event_type', 'outcome'] as const,
      registers,
    });
    this.endToEnd = new Histogram({
      name: 'shopstream_consumer_end_to_end_seconds',
      help: 'From the event time (ce_time, the commit) to the effect applied',
      labelNames: ['group'] as const,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.blocked = new Gauge({
      name: 'shopstream_consumer_blocked',
      help: '1 while an environmental error (database, network, a bug) stops the consumer applying an event it keeps retrying; 0 otherwise',
      labelNames: ['group'] as const,
      registers,
    });
    this.waitingForTopic = new Gauge({
      name: 'shopstream_consumer_waiting_for_topic',
      help: '1 while the consumer waits for this topic (its topic or its dead-letter topic) to exist and consumes nothing; 0 once it exists',
      labelNames: ['group', 'topic'] as const,
      registers,
    });
    this.dlqEvents = new Counter({
      name: 'shopstream_consumer_dlq_events_total',
      help: 'Events sent to the dead-letter topic because they are at fault themselves, by dlq_error_code',
      labelNames: ['group', 'code'] as const,
      registers,
    });
    this.inboxPurgedRows = new Counter({
      name: 'shopstream_consumer_inbox_purged_total',
      help: 'Inbox (processed_event) rows of the group deleted because they were older than the retention horizon',
      labelNames: ['group'] as const,
      registers,
    });
    this.inboxOldestAge = new Gauge({
      name: 'shopstream_consumer_inbox_oldest_age_seconds',
      help: "Age of the group's oldest inbox (processed_event) row after the last purge; stays near the horizon while purging works (0 when empty)",
      labelNames: ['group'] as const,
      registers,
    });
  }

  /** Exports 0 for `group` before anything happened, so dashboards and alerts see the series. */
  init(group: string): void {
    this.blocked.set({ group }, 0);
    this.inboxPurgedRows.inc({ group }, 0);
  }

  /** Counts inbox rows the retention purge deleted. */
  inboxPurged(group: string, rows: number): void {
    this.inboxPurgedRows.inc({ group }, rows);
  }

  setInboxOldestAge(group: string, seconds: number): void {
    this.inboxOldestAge.set({ group }, seconds);
  }

  setBlocked(group: string, blocked: boolean): void {
    this.blocked.set({ group }, blocked ? 1 : 0);
  }

  setWaitingForTopic(group: string, topic: string, waiting: boolean): void {
    this.waitingForTopic.set({ group, topic }, waiting ? 1 : 0);
  }

  /** Counts one record acknowledged by the dead-letter topic (also counted as outcome dead_lettered). */
  deadLettered(group: string, eventType: string, code: string): void {
    this.dlqEvents.inc({ group, code });
    this.handled(group, eventType, 'dead_lettered');
  }

  /**
   * Exports per-partition lag: messages from Kafka's own offsets, seconds from the oldest message
   * fetched but not applied yet (`oldestUnappliedMs`), 0 when caught up.
   */
  setLag(
    group: string,
    lags: PartitionLag[],
    oldestUnappliedMs: (partition: number) => number | null | undefined,
  ): void {
    for (const p of lags) {
      const labels = { group, topic: p.topic, partition: String(p.partition) };
      this.lagMessages.set(labels, p.lag);
      const oldest = oldestUnappliedMs(p.partition);
      this.lagSeconds.set(labels, p.lag === 0 || !oldest ? 0 : Math.max(0, (Date.now() - oldest) / 1000));
    }
  }

  handled(group: string, eventType: string, outcome: EventOutcome, eventTime?: Date): void {
    this.events.inc({ group, event_type: eventType, outcome });
    if (outcome === 'applied' && eventTime) {
      this.endToEnd.observe({ group }, Math.max(0, (Date.now() - eventTime.getTime()) / 1000));
    }
  }
}
