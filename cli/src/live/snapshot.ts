import { bucketDelta, bucketsOf, histogramQuantile, maxOf, sumOf } from './prometheus.js';
import type { Sample } from './prometheus.js';
import type { Role, Target } from './targets.js';

/** One scrape of one target: its samples, or why there are none. */
export interface Scrape {
  target: Target;
  /** Epoch milliseconds when the scrape finished. */
  at: number;
  samples?: Sample[];
  error?: string;
}

/** The outbox as the database sees it (all shards). */
export interface DatabaseBacklog {
  /** PENDING rows a relay can publish (blocked ones apart). */
  pending: number;
  /** PENDING rows held behind a DEAD row of their product. */
  blocked: number;
  dead: number;
  /** Of the `pending` rows; 0 when there is none. */
  oldestPendingAgeSeconds: number;
}

export interface Backlog {
  pending: number | null;
  blocked: number | null;
  oldestPendingAgeSeconds: number | null;
  dead: number | null;
}

/** What the live view shows; also the `--json` document. Null: no data (process down, no interval yet). */
export interface Snapshot {
  at: string;
  /** Seconds between the two scrapes the rates come from; null on the first scrape. */
  intervalSeconds: number | null;
  components: { role: Role; url: string; up: boolean; error?: string }[];
  api: { requestsTotal: number | null; requestsPerSecond: number | null };
  outbox: Backlog & {
    /** Where pending/oldest/dead come from: the database when it answered, else the relays' gauges. */
    source: 'database' | 'relays' | null;
    database: DatabaseBacklog | null;
    databaseError?: string;
    /** Sum (pending, blocked, dead) and max (age) of the relays' gauges, refreshed by each relay every few seconds. */
    relays: Backlog;
    publishedTotal: number | null;
    publishedPerSecond: number | null;
    publishFailuresTotal: number | null;
    publishFailuresPerSecond: number | null;
  };
  consumer: {
    lagMessages: number | null;
    lagSeconds: number | null;
    appliedTotal: number | null;
    appliedPerSecond: number | null;
    duplicatesTotal: number | null;
    dlqTotal: number | null;
    /** commit → applied over the interval, from the consumer's histogram; null when nothing was applied. */
    endToEnd: { events: number | null; p50Seconds: number | null; p99Seconds: number | null };
  };
}

/** Requests the live view itself and the probes cause; counting them would show traffic on an idle API. */
const OPS_ROUTES = new Set(['/metrics', '/healthz', '/readyz']);
const nullable = (n: number | undefined): number | null => (n === undefined || Number.isNaN(n) ? null : n);

const up = (scrapes: Scrape[], role: Role): Scrape[] =>
  scrapes.filter((s) => s.target.role === role && s.samples);

/** Sums `value` over the targets of `role` that are up; null when none is. */
function total(
  scrapes: Scrape[],
  role: Role,
  value: (samples: Sample[]) => number | undefined,
): number | null {
  const live = up(scrapes, role);
  if (live.length === 0) return null;
  return live.reduce((sum, s) => sum + (value(s.samples!) ?? 0), 0);
}

/**
 * Per-second rate of a counter between two scrapes of the same targets. A target missing from
 * either scrape adds nothing; a counter that went down (process restarted) counts from zero.
 */
function rate(
  previous: Scrape[],
  current: Scrape[],
  role: Role,
  value: (samples: Sample[]) => number | undefined,
): number | null {
  let increase = 0;
  let seconds = 0;
  let pairs = 0;
  for (const now of up(current, role)) {
    const before = previous.find((p) => p.target.url === now.target.url && p.samples);
    if (!before) continue;
    const a = value(before.samples!) ?? 0;
    const b = value(now.samples!) ?? 0;
    increase += b >= a ? b - a : b;
    seconds = Math.max(seconds, (now.at - before.at) / 1000);
    pairs++;
  }
  return pairs === 0 || seconds <= 0 ? null : increase / seconds;
}

const requests = (samples: Sample[]): number =>
  samples
    .filter(
      (s) =>
        s.name === 'shopstream_http_request_duration_seconds_count' && !OPS_ROUTES.has(s.labels.route ?? ''),
    )
    .reduce((sum, s) => sum + s.value, 0);
const published = (s: Sample[]) => sumOf(s, 'shopstream_outbox_published_total');
const failures = (s: Sample[]) => sumOf(s, 'shopstream_outbox_publish_failures_total');
const outcome = (o: string) => (s: Sample[]) => sumOf(s, 'shopstream_consumer_events_total', { outcome: o });
const END_TO_END = 'shopstream_consumer_end_to_end_seconds';

/** Combines the scrapes (and the database's backlog) into what the live view shows. Pure. */
export function buildSnapshot(input: {
  previous?: Scrape[];
  current: Scrape[];
  database?: DatabaseBacklog | { error: string };
  now: number;
}): Snapshot {
  const { current } = input;
  const previous = input.previous ?? [];
  const previousAt = previous.length ? Math.max(...previous.map((s) => s.at)) : undefined;
  const lastAt = current.length ? Math.max(...current.map((s) => s.at)) : undefined;

  const relays: Backlog = {
    pending: total(current, 'relay', (s) => sumOf(s, 'shopstream_outbox_pending_events')),
    // A relay without the gauge (older than blocked rows) counts them as pending.
    blocked: total(current, 'relay', (s) => sumOf(s, 'shopstream_outbox_blocked_events')),
    dead: total(current, 'relay', (s) => sumOf(s, 'shopstream_outbox_dead_events')),
    oldestPendingAgeSeconds: (() => {
      const ages = up(current, 'relay').map(
        (s) => maxOf(s.samples!, 'shopstream_outbox_oldest_pending_age_seconds') ?? 0,
      );
      return ages.length ? Math.max(...ages) : null;
    })(),
  };
  const database = input.database && !('error' in input.database) ? input.database : null;
  const backlog: Backlog = database ?? relays;

  let endToEnd: Snapshot['consumer']['endToEnd'] = { events: null, p50Seconds: null, p99Seconds: null };
  const merged = new Map<number, number>();
  let pairs = 0;
  for (const now of up(current, 'consumer')) {
    const before = previous.find((p) => p.target.url === now.target.url && p.samples);
    if (!before) continue;
    pairs++;
    const delta = bucketDelta(bucketsOf(before.samples!, END_TO_END), bucketsOf(now.samples!, END_TO_END));
    for (const [le, c] of delta) merged.set(le, (merged.get(le) ?? 0) + c);
  }
  if (pairs > 0) {
    endToEnd = {
      events: merged.get(Infinity) ?? 0,
      p50Seconds: nullable(histogramQuantile(0.5, merged)),
      p99Seconds: nullable(histogramQuantile(0.99, merged)),
    };
  }

  return {
    at: new Date(input.now).toISOString(),
    intervalSeconds: previousAt !== undefined && lastAt !== undefined ? (lastAt - previousAt) / 1000 : null,
    components: current.map((s) => ({
      role: s.target.role,
      url: s.target.url,
      up: s.samples !== undefined,
      ...(s.error ? { error: s.error } : {}),
    })),
    api: {
      requestsTotal: total(current, 'api', requests),
      requestsPerSecond: rate(previous, current, 'api', requests),
    },
    outbox: {
      ...backlog,
      source: database ? 'database' : relays.pending !== null ? 'relays' : null,
      database,
      ...(input.database && 'error' in input.database ? { databaseError: input.database.error } : {}),
      relays,
      publishedTotal: total(current, 'relay', published),
      publishedPerSecond: rate(previous, current, 'relay', published),
      publishFailuresTotal: total(current, 'relay', failures),
      publishFailuresPerSecond: rate(previous, current, 'relay', failures),
    },
    consumer: {
      lagMessages: total(current, 'consumer', (s) => sumOf(s, 'shopstream_consumer_lag_messages')),
      lagSeconds: (() => {
        const ages = up(current, 'consumer').map(
          (s) => maxOf(s.samples!, 'shopstream_consumer_lag_seconds') ?? 0,
        );
        return ages.length ? Math.max(...ages) : null;
      })(),
      appliedTotal: total(current, 'consumer', outcome('applied')),
      appliedPerSecond: rate(previous, current, 'consumer', outcome('applied')),
      duplicatesTotal: total(current, 'consumer', outcome('duplicate')),
      dlqTotal: total(current, 'consumer', outcome('dead_lettered')),
      endToEnd,
    },
  };
}
