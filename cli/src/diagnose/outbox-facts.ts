import type { Pool } from 'pg';
import { blockedByDeadSql, errorClassSql } from '@shopstream/shared';
import type { ErrorClass } from '@shopstream/shared';
import type { DeadGroup, OutboxFacts, RelayMember } from './facts.js';

/** Sample ids a DEAD finding names; the rest are counted. */
export const SAMPLE_IDS = 5;

/**
 * What the database says about events for `topic`: the unpublished backlog (all of it lives in the
 * small default partition `outbox_event_unpublished`, so these reads stay cheap), PENDING rows
 * blocked behind a DEAD row of their product (the relay's claim skips those products), DEAD rows
 * grouped by error class with the later events each group holds back, relay members and the
 * shards they hold with live leases.
 */
export async function gatherOutboxFacts(pool: Pool, topic: string): Promise<OutboxFacts> {
  const { rows: tables } = await pool.query<{ outbox: boolean; relay: boolean }>(
    `select to_regclass('outbox_event_unpublished') is not null as outbox,
            to_regclass('relay_member') is not null and to_regclass('relay_shard') is not null as relay`,
  );
  if (!tables[0]?.outbox || !tables[0]?.relay) return { ...emptyOutbox(), migrated: false };

  const deadOfTopic = `select d.id, d.seq, d.aggregate_id, d.event_type, d.aggregate_version, d.attempts,
                              d.last_error, ${errorClassSql('d.last_error')} as error_class
                       from outbox_event_unpublished d where d.status = 'DEAD' and d.topic = $1`;
  const [backlog, blocked, lastError, dead, heldBack, unowned, relays, recent] = await Promise.all([
    pool.query<{ pending: number; dead: number; skipped: number; retrying: number }>(
      `select count(*) filter (where status = 'PENDING')::int as pending,
              count(*) filter (where status = 'DEAD')::int as dead,
              count(*) filter (where status = 'SKIPPED')::int as skipped,
              count(*) filter (where status = 'PENDING' and attempts > 0)::int as retrying
       from outbox_event_unpublished where topic = $1`,
      [topic],
    ),
    // Blocked rows and the oldest row a relay can publish: a semi and an anti join with the
    // products' DEAD rows, not a lookup per row.
    pool.query<{ blocked: number; oldest: number | null }>(
      `select (select count(*)::int from outbox_event_unpublished e
               where e.status = 'PENDING' and e.topic = $1 and ${blockedByDeadSql('e')}) as blocked,
              (select extract(epoch from now() - min(e.created_at))::float8 from outbox_event_unpublished e
               where e.status = 'PENDING' and e.topic = $1 and not ${blockedByDeadSql('e')}) as oldest`,
      [topic],
    ),
    pool.query<{ last_error: string }>(
      `select last_error from outbox_event_unpublished
       where topic = $1 and status = 'PENDING' and last_error is not null order by seq desc limit 1`,
      [topic],
    ),
    pool.query<{
      error_class: ErrorClass;
      events: number;
      products: number;
      event_ids: string[];
      product_ids: string[];
      first: {
        id: string;
        aggregate_id: string;
        event_type: string;
        aggregate_version: number;
        attempts: number;
      };
      last_error: string | null;
    }>(
      `select error_class, count(*)::int as events, count(distinct aggregate_id)::int as products,
              (array_agg(id::text order by seq))[1:${SAMPLE_IDS}] as event_ids,
              (array_agg(aggregate_id::text order by seq))[1:${SAMPLE_IDS * 20}] as product_ids,
              (array_agg(json_build_object('id', id, 'aggregate_id', aggregate_id, 'event_type', event_type,
                                           'aggregate_version', aggregate_version, 'attempts', attempts)
                         order by seq))[1] as first,
              (array_agg(last_error order by seq desc))[1] as last_error
       from (${deadOfTopic}) dead group by error_class`,
      [topic],
    ),
    // Per DEAD row, the product's later PENDING rows through the (aggregate_id, seq) index; a row
    // behind two DEAD rows of one class counts once.
    pool.query<{ error_class: ErrorClass; held_back: number }>(
      `select dead.error_class, count(distinct p.id)::int as held_back
       from (${deadOfTopic}) dead
       join outbox_event_unpublished p
         on p.aggregate_id = dead.aggregate_id and p.seq > dead.seq and p.status = 'PENDING'
       group by dead.error_class`,
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
  const blockedRow = blocked.rows[0];
  return {
    reachable: true,
    migrated: true,
    pending: b?.pending ?? 0,
    blocked: blockedRow?.blocked ?? 0,
    dead: b?.dead ?? 0,
    skipped: b?.skipped ?? 0,
    retrying: b?.retrying ?? 0,
    oldestPendingAgeSeconds: blockedRow?.oldest == null ? null : Math.max(0, blockedRow.oldest),
    lastPendingError: lastError.rows[0]?.last_error ?? null,
    deadGroups: dead.rows
      .map((r): DeadGroup => ({
        errorClass: r.error_class,
        events: r.events,
        products: r.products,
        sampleEventIds: r.event_ids,
        sampleProductIds: [...new Set(r.product_ids)].slice(0, SAMPLE_IDS),
        first: {
          id: r.first.id,
          productId: r.first.aggregate_id,
          eventType: r.first.event_type,
          aggregateVersion: r.first.aggregate_version,
          attempts: r.first.attempts,
        },
        lastError: r.last_error,
        heldBack: heldBack.rows.find((h) => h.error_class === r.error_class)?.held_back ?? 0,
      }))
      .sort((a, b) => b.events - a.events || a.errorClass.localeCompare(b.errorClass)),
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
  blocked: 0,
  dead: 0,
  skipped: 0,
  retrying: 0,
  oldestPendingAgeSeconds: null,
  lastPendingError: null,
  deadGroups: [],
  pendingInUnownedShards: 0,
  relays: [],
  recentTopics: [],
});
