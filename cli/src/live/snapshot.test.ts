import { describe, expect, it } from '@jest/globals';
import { parsePrometheusText } from './prometheus.js';
import { buildSnapshot } from './snapshot.js';
import type { Scrape } from './snapshot.js';
import type { Role } from './targets.js';

const scrape = (role: Role, port: number, at: number, text?: string): Scrape => ({
  target: { role, url: `http://127.0.0.1:${port}/metrics` },
  at,
  ...(text === undefined ? { error: 'ECONNREFUSED' } : { samples: parsePrometheusText(text) }),
});

const api = (at: number, products: number, metrics: number) =>
  scrape(
    'api',
    8080,
    at,
    `shopstream_http_request_duration_seconds_count{method="POST",route="/products",status="201"} ${products}
shopstream_http_request_duration_seconds_count{method="GET",route="/metrics",status="200"} ${metrics}`,
  );
const relay = (
  port: number,
  at: number,
  v: { pending: number; dead: number; age: number; published: number; failed: number; blocked?: number },
) =>
  scrape(
    'relay',
    port,
    at,
    `shopstream_outbox_pending_events ${v.pending}
${v.blocked === undefined ? '' : `shopstream_outbox_blocked_events ${v.blocked}`}
shopstream_outbox_dead_events ${v.dead}
shopstream_outbox_oldest_pending_age_seconds ${v.age}
shopstream_outbox_published_total{event_type="product.created"} ${v.published}
shopstream_outbox_published_total{event_type="product.updated"} 0
shopstream_outbox_publish_failures_total{reason="timeout"} ${v.failed}`,
  );
const consumer = (
  at: number,
  v: { applied: number; dlq: number; dup: number; b01: number; b1: number; inf: number },
) =>
  scrape(
    'consumer',
    9465,
    at,
    `shopstream_consumer_lag_messages{group="g",topic="t",partition="0"} 2
shopstream_consumer_lag_messages{group="g",topic="t",partition="1"} 3
shopstream_consumer_lag_seconds{group="g",topic="t",partition="0"} 0.5
shopstream_consumer_lag_seconds{group="g",topic="t",partition="1"} 1.5
shopstream_consumer_events_total{group="g",event_type="product.created",outcome="applied"} ${v.applied}
shopstream_consumer_events_total{group="g",event_type="product.created",outcome="duplicate"} ${v.dup}
shopstream_consumer_events_total{group="g",event_type="x",outcome="dead_lettered"} ${v.dlq}
shopstream_consumer_end_to_end_seconds_bucket{le="0.1",group="g"} ${v.b01}
shopstream_consumer_end_to_end_seconds_bucket{le="1",group="g"} ${v.b1}
shopstream_consumer_end_to_end_seconds_bucket{le="+Inf",group="g"} ${v.inf}`,
  );

describe('buildSnapshot', () => {
  const previous = [
    api(0, 100, 50),
    relay(9464, 0, { pending: 1, dead: 0, age: 1, published: 10, failed: 0 }),
    relay(9474, 0, { pending: 2, dead: 1, age: 4, published: 20, failed: 1 }),
    consumer(0, { applied: 30, dlq: 1, dup: 0, b01: 20, b1: 30, inf: 30 }),
  ];
  const current = [
    api(2000, 140, 52),
    relay(9464, 2000, { pending: 3, dead: 0, age: 2, published: 30, failed: 0, blocked: 0 }),
    relay(9474, 2000, { pending: 4, dead: 1, age: 5, published: 40, failed: 3, blocked: 6 }),
    consumer(2000, { applied: 50, dlq: 2, dup: 4, b01: 30, b1: 40, inf: 50 }),
    scrape('operator', 9466, 2000),
  ];

  it('turns counters into rates over the interval and sums the relays', () => {
    const s = buildSnapshot({ previous, current, now: 2000 });
    expect(s.intervalSeconds).toBe(2);
    expect(s.api).toEqual({ requestsTotal: 140, requestsPerSecond: 20 }); // /metrics scrapes left out
    expect(s.outbox).toMatchObject({
      pending: 7,
      blocked: 6,
      dead: 1,
      oldestPendingAgeSeconds: 5,
      source: 'relays',
      database: null,
      publishedTotal: 70,
      publishedPerSecond: 20,
      publishFailuresTotal: 3,
      publishFailuresPerSecond: 1,
    });
    expect(s.consumer).toMatchObject({
      lagMessages: 5,
      lagSeconds: 1.5,
      appliedTotal: 50,
      appliedPerSecond: 10,
      duplicatesTotal: 4,
      dlqTotal: 2,
    });
    expect(s.components.map((c) => [c.role, c.up])).toEqual([
      ['api', true],
      ['relay', true],
      ['relay', true],
      ['consumer', true],
      ['operator', false],
    ]);
    expect(s.components[4]!.error).toBe('ECONNREFUSED');
  });

  it('takes latency percentiles from the buckets observed during the interval only', () => {
    // Interval: 10 more ≤ 0.1, 0 in (0.1, 1], 10 more above 1 → 20 events.
    const s = buildSnapshot({ previous, current, now: 2000 });
    expect(s.consumer.endToEnd.events).toBe(20);
    expect(s.consumer.endToEnd.p50Seconds).toBeCloseTo(0.1);
    expect(s.consumer.endToEnd.p99Seconds).toBe(1);
  });

  it('prefers the database backlog and keeps the relays’ gauges beside it', () => {
    const s = buildSnapshot({
      previous,
      current,
      database: { pending: 9, blocked: 3, dead: 2, oldestPendingAgeSeconds: 12 },
      now: 2000,
    });
    expect(s.outbox).toMatchObject({
      pending: 9,
      blocked: 3,
      dead: 2,
      oldestPendingAgeSeconds: 12,
      source: 'database',
    });
    expect(s.outbox.relays).toEqual({ pending: 7, blocked: 6, dead: 1, oldestPendingAgeSeconds: 5 });
    const failed = buildSnapshot({ previous, current, database: { error: 'ECONNREFUSED' }, now: 2000 });
    expect(failed.outbox).toMatchObject({ pending: 7, source: 'relays', databaseError: 'ECONNREFUSED' });
  });

  it('has no rates on the first scrape and nulls for roles that are down', () => {
    const s = buildSnapshot({ current: [scrape('relay', 9464, 0), api(0, 5, 0)], now: 0 });
    expect(s.intervalSeconds).toBeNull();
    expect(s.api).toEqual({ requestsTotal: 5, requestsPerSecond: null });
    expect(s.outbox).toMatchObject({
      pending: null,
      publishedTotal: null,
      publishedPerSecond: null,
      source: null,
    });
    expect(s.consumer).toMatchObject({ lagMessages: null, dlqTotal: null });
    expect(s.consumer.endToEnd).toEqual({ events: null, p50Seconds: null, p99Seconds: null });
  });

  it('counts a restarted process from zero instead of a negative rate', () => {
    const restarted = [relay(9464, 2000, { pending: 0, dead: 0, age: 0, published: 4, failed: 0 })];
    const s = buildSnapshot({ previous: [previous[1]!], current: restarted, now: 2000 });
    expect(s.outbox.publishedPerSecond).toBe(2);
  });
});
