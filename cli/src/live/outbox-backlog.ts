import type { Pool } from 'pg';
import type { DatabaseBacklog } from './snapshot.js';

/**
 * The whole outbox's backlog, read from the unpublished partition only (where PENDING and DEAD
 * rows live, DESIGN §2), so it stays cheap to run every second. The relays export the same numbers
 * per owned shard, but refresh them every few seconds; the database is the truth right now.
 */
export async function readOutboxBacklog(pool: Pool): Promise<DatabaseBacklog> {
  const { rows } = await pool.query<{ pending: number; dead: number; oldest: number | null }>(
    `select count(*) filter (where status = 'PENDING')::int as pending,
            count(*) filter (where status = 'DEAD')::int as dead,
            extract(epoch from now() - min(created_at) filter (where status = 'PENDING'))::float8 as oldest
     from outbox_event_unpublished`,
  );
  const r = rows[0];
  return {
    pending: r?.pending ?? 0,
    dead: r?.dead ?? 0,
    oldestPendingAgeSeconds: Math.max(0, r?.oldest ?? 0),
  };
}
