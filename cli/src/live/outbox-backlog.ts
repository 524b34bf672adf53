import type { Pool } from 'pg';
import { blockedByDeadSql } from '@shopstream/shared';
import type { DatabaseBacklog } from './snapshot.js';

/**
 * The whole outbox's backlog, read from the unpublished partition only (where PENDING and DEAD
 * rows live, DESIGN §2), so it stays cheap to run every second: blocked rows (PENDING behind a DEAD
 * row of their product) through a semi join, the others through an anti join. The relays export
 * the same numbers per owned shard, but refresh them every few seconds; the database is the truth
 * right now.
 */
export async function readOutboxBacklog(pool: Pool): Promise<DatabaseBacklog> {
  const { rows } = await pool.query<{
    pending: number;
    blocked: number;
    dead: number;
    oldest: number | null;
  }>(
    `select (select count(*)::int from outbox_event_unpublished e
             where e.status = 'PENDING' and not ${blockedByDeadSql('e')}) as pending,
            (select count(*)::int from outbox_event_unpublished e
             where e.status = 'PENDING' and ${blockedByDeadSql('e')}) as blocked,
            (select count(*)::int from outbox_event_unpublished where status = 'DEAD') as dead,
            (select extract(epoch from now() - min(e.created_at))::float8 from outbox_event_unpublished e
             where e.status = 'PENDING' and not ${blockedByDeadSql('e')}) as oldest`,
  );
  const r = rows[0];
  return {
    pending: r?.pending ?? 0,
    blocked: r?.blocked ?? 0,
    dead: r?.dead ?? 0,
    oldestPendingAgeSeconds: Math.max(0, r?.oldest ?? 0),
  };
}
