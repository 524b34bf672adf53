import type { Pool } from 'pg';
import type { DeadRow, OutboxFacts, RelayMember } from './facts.js';

/** DEAD rows read for the findings; more are counted, not listed. */
const DEAD_ROWS_LIMIT = 50;

/**
 * What the database says about events for `topic`: the unpublished backlog (all of it lives in the
 * small default partition `outbox_event_unpublished`, so these reads stay cheap), DEAD rows and the
 * later events of their products they hold back (the relay's claim skips a product whose earlier
 * row is DEAD), relay members and the shards they hold with live leases.
 */
export async function gatherOutboxFacts(pool: Pool, topic: string): Promise<OutboxFacts> {
  const { rows: tables } = await pool.query<{ outbox: boolean; relay: boolean }>(
    `select to_regclass('outbox_event_unpublished') is not null as outbox,
            to_regclass('relay_member') is not null and to_regclass('relay_shard') is not null as relay`,
  );
  if (!tables[0]?.outbox || !tables[0]?.relay) return { ...emptyOutbox(), migrated: false };

  const [backlog, lastError, dead, unowned, relays, recent] = await Promise.all([
    pool.query<{ pending: number; dead: number; skipped: number; retrying: number; oldest: number | null }>(
      `select count(*) filter (where status = 'PENDING')::int as pending,
              count(*) filter (where status = 'DEAD')::int as dead,
              count(*) filter (where status = 'SKIPPED')::int as skipped,
              count(*) filter (where status = 'PENDING' and attempts > 0)::int as retrying,
              extract(epoch from now() - min(created_at) filter (where status = 'PENDING'))::float8 as oldest
       from outbox_event_unpublished where topic = $1`,
      [topic],
    ),
    pool.query<{ last_error: string }>(
      `select last_error from outbox_event_unpublished
       where topic = $1 and status = 'PENDING' and last_error is not null order by seq desc limit 1`,
      [topic],
    ),
    pool.query<{
      id: string;
      aggregate_id: string;
      event_type: string;
      aggregate_version: number;
      attempts: number;
      last_error: string | null;
      held_back: number;
    }>(
      `select d.id, d.aggregate_id, d.event_type, d.aggregate_version, d.attempts, d.last_error,
              (select count(*)::int from outbox_event_unpublished p
               where p.aggregate_id = d.aggregate_id and p.seq > d.seq and p.status = 'PENDING') as held_back
       from outbox_event_unpublished d where d.status = 'DEAD' and d.topic = $1
       order by d.seq limit ${DEAD_ROWS_LIMIT}`,
      [topic],
    ),
    pool.query<{ n: number }>(
      `select count(*)::int as n from outbox_event_unpublished e
       where e.status = 'PENDING' and e.topic = $1
         and not exists (select 1 from relay_shard s
                         where s.shard = e.shard and s.owner is not null and s.lease_until > now())`,
      [topic],
    ),
    pool.query<{ owner: string; live: boolean; expired_for: number; shards: number }>(
      `select m.owner, m.lease_until > now() as live,
              extract(epoch from now() - m.lease_until)::float8 as expired_for,
              (select count(*)::int from relay_shard s where s.owner = m.owner and s.lease_until > now()) as shards
       from relay_member m order by m.lease_until desc`,
    ),
    // Published rows sit in hourly partitions: the one-hour bound keeps this to the newest ones.
    pool.query<{ topic: string; events: number }>(
      `select topic, count(*)::int as events from outbox_event
       where published_at is null or published_at > now() - interval '1 hour'
       group by topic order by topic`,
    ),
  ]);
  const b = backlog.rows[0];
  return {
    reachable: true,
    migrated: true,
    pending: b?.pending ?? 0,
    dead: b?.dead ?? 0,
    skipped: b?.skipped ?? 0,
    retrying: b?.retrying ?? 0,
    oldestPendingAgeSeconds: b?.oldest == null ? null : Math.max(0, b.oldest),
    lastPendingError: lastError.rows[0]?.last_error ?? null,
    deadRows: dead.rows.map((r): DeadRow => ({
      id: r.id,
      productId: r.aggregate_id,
      eventType: r.event_type,
      aggregateVersion: r.aggregate_version,
      attempts: r.attempts,
      lastError: r.last_error,
      heldBack: r.held_back,
    })),
    pendingInUnownedShards: unowned.rows[0]?.n ?? 0,
    relays: relays.rows.map((r): RelayMember => ({
      owner: r.owner,
      live: r.live,
      leaseExpiredSecondsAgo: r.expired_for,
      shards: r.shards,
    })),
    recentTopics: recent.rows,
  };
}

const emptyOutbox = (): OutboxFacts => ({
  reachable: true,
  migrated: true,
  pending: 0,
  dead: 0,
  skipped: 0,
  retrying: 0,
  oldestPendingAgeSeconds: null,
  lastPendingError: null,
  deadRows: [],
  pendingInUnownedShards: 0,
  relays: [],
  recentTopics: [],
});
