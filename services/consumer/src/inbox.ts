import type { Pool } from 'pg';
import type { ProductEvent } from './event-envelope.js';
import { EventRejectedError, dataRejection } from './event-errors.js';
import { handlerFor } from './handler-registry.js';
import { projectRows } from './projection.js';

export type ApplyOutcome = 'applied' | 'duplicate' | 'stale';

/** Records the events in the inbox; returns the ids that were not there yet. Sorted: lock order. */
const INBOX_SQL = `
insert into processed_event (consumer_group, event_id)
select $1, id from unnest($2::uuid[]) as e(id) order by id
on conflict do nothing
returning event_id`;

/**
 * The one code path that makes events take effect: in one transaction, record them in the inbox
 * `processed_event (group, event id)`; those already there (and later copies within `events`) are
 * duplicates and do nothing else; the rest move the read models with set-based statements
 * (`projectRows`), which keep each product at its highest version. Commits all or nothing, so every
 * event takes effect exactly once per group however often Kafka delivers it.
 * @returns per event, in order: applied, duplicate or stale.
 * @throws EventRejectedError when an event is at fault: its handler's verdict, or — for a single
 *   event — a data SQLSTATE of `DATA_SQLSTATES` (which of several a data error belongs to is not
 *   known; the caller applies a failed chunk one event at a time). Any other error is rethrown as it is.
 */
export async function applyEvents(
  pool: Pool,
  group: string,
  events: readonly ProductEvent[],
): Promise<ApplyOutcome[]> {
  // Before any I/O: a handler's verdict on one event must not cost the batch a transaction.
  const rows = events.map((event) => handlerFor(event.type).toRow(event));
  const tx = await pool.connect();
  let broken: Error | undefined;
  // A checked-out client has no 'error' listener of the pool's: without this one, a server that ends
  // the session (a restart: 57P01) while the transaction is open is an uncaught exception that kills
  // the process. The query in flight fails too, and that failure takes the environmental path below.
  const onError = (err: Error): void => {
    broken ??= err;
  };
  tx.on('error', onError);
  try {
    await tx.query('begin');
    const ids = [...new Set(events.map((e) => e.id))];
    const inserted = await tx.query<{ event_id: string }>(INBOX_SQL, [group, ids]);
    const fresh = new Set(inserted.rows.map((r) => r.event_id));
    // Only the first copy of a fresh id takes effect; `fresh.delete` makes every later copy a duplicate.
    const takes = events.map((e) => fresh.delete(e.id));
    const projected = await projectRows(
      tx,
      rows.filter((_, i) => takes[i]),
    );
    await tx.query('commit');
    return takes.map((take) => (take ? projected.shift()! : 'duplicate'));
  } catch (err) {
    await tx.query('rollback').catch((rollbackError: Error) => (broken = rollbackError));
    if (err instanceof EventRejectedError) throw err;
    const rejection = events.length === 1 ? dataRejection(err, events[0]!.id) : undefined;
    if (rejection) throw rejection;
    // The environment's fault: start the next attempt on a new session, so session state that caused
    // it (a read-only default, a terminated backend, a cached plan of a changed table) goes with it.
    broken ??= err instanceof Error ? err : new Error(String(err));
    throw err;
  } finally {
    tx.off('error', onError);
    tx.release(broken); // a discarded connection is closed, not reused
  }
}
