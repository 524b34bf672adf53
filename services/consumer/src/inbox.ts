import type { Pool } from 'pg';
import type { ProductEvent } from './event-envelope.js';
import { EventRejectedError } from './event-errors.js';
import { handlerFor } from './handler-registry.js';

export type ApplyOutcome = 'applied' | 'duplicate' | 'stale';

/**
 * The one code path that makes an event take effect: in one transaction, record it in the inbox
 * `processed_event (group, event id)`; if it was already there, do nothing else (duplicate);
 * otherwise run its handler. Commits both or neither, so an event takes effect exactly once per
 * group however often Kafka delivers it.
 * @throws EventRejectedError (the event's fault) or the database's error (retriable or not).
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
    // A value the database refuses (check constraint, bad number) is the event's fault.
    const code = (err as { code?: string }).code;
    if (code && /^(22|23)/.test(code)) {
      throw new EventRejectedError(
        'DATA_REJECTED',
        `event ${event.id} was refused by the database: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    throw err;
  } finally {
    tx.release(broken); // a connection that cannot even roll back is discarded, not reused
  }
}
