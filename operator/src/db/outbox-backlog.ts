import pg from 'pg';
import { blockedByDeadSql, pgOptions } from '@shopstream/shared';
import type { Backlog } from '../controllers/relay-scaling.js';

/**
 * What more relays can publish: PENDING rows, less the blocked ones (held behind a DEAD row of their
 * product, blockedByDeadSql) — those wait for an operator's requeue or skip, and scaling relays for
 * them would only add idle replicas.
 */
const CLAIMABLE = `pending.status = 'PENDING' and not ${blockedByDeadSql('pending')}`;

/**
 * The pending count, as one integer: what KEDA's postgresql trigger polls in Keda mode. Both
 * queries read only the unpublished partition: PENDING rows through their partial index, and for
 * each of them the product's earlier rows through the (aggregate_id, seq) index, so they cost the
 * size of the backlog, never the size of the outbox.
 */
export const PENDING_COUNT_SQL = `select count(*) from outbox_event_unpublished pending where ${CLAIMABLE}`;

/** The pending count and the age of the oldest pending row, blocked rows excluded from both. */
export const BACKLOG_SQL = `select (${PENDING_COUNT_SQL})::bigint as pending,
  coalesce(extract(epoch from now() - (
    select pending.created_at from outbox_event_unpublished pending where ${CLAIMABLE} order by pending.seq limit 1
  )), 0)::float8 as oldest_age_seconds`;

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
    const { rows } = await pool.query<{ pending: string; oldest_age_seconds: number }>(BACKLOG_SQL);
    const row = rows[0]!;
    return { pending: Number(row.pending), oldestPendingAgeSeconds: Math.max(0, row.oldest_age_seconds) };
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.end()));
    this.pools.clear();
  }
}
