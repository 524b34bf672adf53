import type { Pool } from 'pg';
import type { EventTiming } from './plan.js';

/**
 * Every outbox event of `productIds`, with its commit (created_at = ce_time), publish mark and the
 * consumer inbox's record (processed_event.processed_at: the transaction that applied it).
 * `since` bounds the published partitions read (outbox_event is partitioned by published_at);
 * without `group` every group's inbox counts (fine on a database with one consumer group).
 */
export async function readEventTimings(
  pool: Pool,
  query: { productIds: string[]; group?: string; since: Date },
): Promise<EventTiming[]> {
  const { rows } = await pool.query<{
    id: string;
    status: string;
    created_ms: number;
    published_ms: number | null;
    applied_ms: number | null;
    applications: number;
  }>(
    `with e as (
       select id, status, created_at, published_at from outbox_event
       where aggregate_id = any($1::uuid[]) and (published_at is null or published_at >= $3)
     ), p as (
       select event_id, count(*)::int as applications, min(processed_at) as processed_at from processed_event
       where event_id in (select id from e) and ($2::text is null or consumer_group = $2)
       group by event_id
     )
     select e.id, e.status,
            extract(epoch from e.created_at)::float8 * 1000 as created_ms,
            extract(epoch from e.published_at)::float8 * 1000 as published_ms,
            extract(epoch from p.processed_at)::float8 * 1000 as applied_ms,
            coalesce(p.applications, 0) as applications
     from e left join p on p.event_id = e.id`,
    [query.productIds, query.group ?? null, query.since],
  );
  return rows.map((r) => ({
    id: r.id,
    status: r.status,
    createdMs: r.created_ms,
    publishedMs: r.published_ms,
    appliedMs: r.applied_ms,
    applications: r.applications,
  }));
}

/** How many of the products the read model shows at exactly the version the run left them. */
export async function readModelState(
  pool: Pool,
  finalVersions: ReadonlyMap<string, number>,
): Promise<{ products: number; current: number }> {
  const { rows } = await pool.query<{ current: number }>(
    `select count(*)::int as current
     from unnest($1::uuid[], $2::int[]) as want(id, version)
     join product_search s on s.product_id = want.id and s.source_version = want.version`,
    [[...finalVersions.keys()], [...finalVersions.values()]],
  );
  return { products: finalVersions.size, current: rows[0]?.current ?? 0 };
}

/**
 * Polls until every event of the run is applied (or `timeoutMs` passes) and returns the timings.
 * `expected` is the number of successful writes: until that many events exist nothing is done.
 */
export async function waitUntilApplied(
  pool: Pool,
  query: { productIds: string[]; group?: string; since: Date; expected: number },
  options: { timeoutMs: number; intervalMs?: number; onProgress?: (applied: number, total: number) => void },
): Promise<{ events: EventTiming[]; timedOut: boolean }> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const events = await readEventTimings(pool, query);
    const applied = events.filter((e) => e.applications > 0).length;
    options.onProgress?.(applied, Math.max(events.length, query.expected));
    if (events.length >= query.expected && applied === events.length) return { events, timedOut: false };
    if (Date.now() >= deadline) return { events, timedOut: true };
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 500));
  }
}
