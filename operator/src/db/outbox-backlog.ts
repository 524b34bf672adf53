import pg from 'pg';
import { pgOptions } from '@shopstream/shared';
import type { Backlog } from '../controllers/relay-scaling.js';

/**
 * Every PENDING row, classified the way a relay's claim (services/relay outbox-store.ts) sees it:
 * - `blocked`: an earlier row of its product is DEAD (blockedByDeadSql's meaning): it waits for a
 *   person to requeue or skip that row;
 * - `retrying`: not due itself (next_attempt_at in the future, a backoff) or held behind an earlier
 *   PENDING row of its product that is not due: it waits for the clock;
 * - `claimable`: what a relay would claim now, and the only rows more relays can move.
 * A due earlier row holds nothing: the relay claims a product's due rows together, in seq order.
 *
 * `holds` is the few products with a DEAD or not-due row, each with its first such row, found in
 * one pass over the unpublished partition; every PENDING row is then hash-joined to it. Cost: the
 * unpublished partition, twice at most — never the published outbox, and never a probe per row
 * (which reads a product's earlier rows once for each of its rows: quadratic in a hot product).
 */
const CLASSIFIED_CTE = `with holds as (
    select b.aggregate_id, min(b.seq) filter (where b.status = 'DEAD') as dead_seq, min(b.seq) as hold_seq
    from outbox_event_unpublished b
    where b.status = 'DEAD' or (b.status = 'PENDING' and b.next_attempt_at > now())
    group by b.aggregate_id
  ), classified as (
    select p.aggregate_id, p.created_at,
           case when p.seq > h.dead_seq then 'blocked' when p.seq >= h.hold_seq then 'retrying' else 'claimable' end as state
    from outbox_event_unpublished p left join holds h on h.aggregate_id = p.aggregate_id
    where p.status = 'PENDING'
  )`;

/** The claimable count, as one integer: what KEDA's postgresql trigger polls in Keda mode. */
export const PENDING_COUNT_SQL = `${CLASSIFIED_CTE}
  select count(*) from classified where state = 'claimable'`;

/**
 * The claimable count and the age of the oldest claimable row; blocked and retrying rows apart,
 * with the blocked product whose DEAD row is oldest (to name it); and the shard count of this
 * outbox (relay_config, DESIGN §2), which bounds how many relays can do anything.
 */
export const BACKLOG_SQL = `${CLASSIFIED_CTE}
  select t.pending, t.oldest_age_seconds, t.blocked, t.retrying, t.blocked_products,
         f.aggregate_id as blocked_product, f.id as dead_event_id,
         (select c.shard_count from relay_config c where c.id = 1) as shard_count
  from (select count(*) filter (where state = 'claimable')::bigint as pending,
               coalesce(extract(epoch from now() - min(created_at) filter (where state = 'claimable')), 0)::float8
                 as oldest_age_seconds,
               count(*) filter (where state = 'blocked')::bigint as blocked,
               count(*) filter (where state = 'retrying')::bigint as retrying,
               count(distinct aggregate_id) filter (where state = 'blocked')::int as blocked_products
        from classified) t
  left join lateral (
    select d.aggregate_id, d.id
    from holds h join outbox_event_unpublished d on d.aggregate_id = h.aggregate_id and d.seq = h.dead_seq
    where exists (select 1 from outbox_event_unpublished p
                  where p.aggregate_id = h.aggregate_id and p.seq > h.dead_seq and p.status = 'PENDING')
    order by h.dead_seq limit 1) f on true`;

interface BacklogRow {
  pending: string;
  oldest_age_seconds: number;
  blocked: string;
  retrying: string;
  blocked_products: number;
  blocked_product: string | null;
  dead_event_id: string | null;
  shard_count: number | null;
}

/**
 * Reads the outbox backlog for relay scaling. One small pool per database URL (a pipeline's
 * secret may change; an old pool then idles out).
 */
export class OutboxBacklogReader {
  private readonly pools = new Map<string, pg.Pool>();

  async read(databaseUrl: string): Promise<Backlog> {
    let pool = this.pools.get(databaseUrl);
    if (!pool) {
      pool = new pg.Pool({
        ...pgOptions(databaseUrl, {
          max: 1,
          applicationName: 'shopstream-operator',
          statementTimeoutMs: 5_000,
          queryTimeoutMs: 6_000,
        }),
        idleTimeoutMillis: 60_000,
      });
      pool.on('error', () => undefined); // an idle client's error surfaces on the next query
      this.pools.set(databaseUrl, pool);
    }
    const { rows } = await pool.query<BacklogRow>(BACKLOG_SQL);
    const row = rows[0]!;
    return {
      pending: Number(row.pending),
      oldestPendingAgeSeconds: Math.max(0, row.oldest_age_seconds),
      blocked: Number(row.blocked),
      retrying: Number(row.retrying),
      ...(row.blocked_product && row.dead_event_id
        ? {
            firstBlocked: {
              productId: row.blocked_product,
              deadEventId: row.dead_event_id,
              products: row.blocked_products,
            },
          }
        : {}),
      ...(row.shard_count === null ? {} : { shardCount: row.shard_count }),
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.end()));
    this.pools.clear();
  }
}
