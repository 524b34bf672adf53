import type { Pool } from 'pg';
import type { ProductEvent } from './event-envelope.js';
import { EventRejectedError, dataRejection } from './event-errors.js';
import { handlerFor } from './handler-registry.js';

export type ApplyOutcome = 'applied' | 'duplicate' | 'stale';

/**
 * The one code path that makes an event take effect: in one transaction, record it in the inbox
 * `processed_event (group, event id)`; if it was already there, do nothing else (duplicate);
 * otherwise run its handler. Commits both or neither, so an event takes effect exactly once per
 * group however often Kafka delivers it.
 * @throws EventRejectedError when the event is at fault (a data SQLSTATE of `DATA_SQLSTATES`, or
 *   its handler's verdict); any other error is the environment's and is rethrown as it is.
 */
export async function applyEvent(pool: Pool, group: string, event: ProductEvent): Promise<ApplyOutcome> {
  const handler = handlerFor(event.type);
  const tx = await pool.connect();
  let broken: Error | undefined;
  try {
    await tx.query('begin');
    const inserted = await tx.query(
      'insert into processed_event (consumer_group, event_id) values ($1, $2) on conflict do nothing',
      [group, event.id],
    );
    if (inserted.rowCount === 0) {
      await tx.query('rollback');
      return 'duplicate';
    }
    const outcome = await handler.handle(tx, event);
    await tx.query('commit');
    return outcome;
  } catch (err) {
    await tx.query('rollback').catch((rollbackError: Error) => (broken = rollbackError));
    if (err instanceof EventRejectedError) throw err; // its handler's verdict
    const rejection = dataRejection(err, event.id);
    if (rejection) throw rejection;
    // The environment's fault: start the next attempt on a new session, so session state that caused
    // it (a read-only default, a terminated backend, a cached plan of a changed table) goes with it.
    broken ??= err instanceof Error ? err : new Error(String(err));
    throw err;
  } finally {
    tx.release(broken); // a discarded connection is closed, not reused
  }
}
