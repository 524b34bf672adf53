export type RejectionCode =
  'BAD_ENVELOPE' | 'BAD_PAYLOAD' | 'UNKNOWN_EVENT_TYPE' | 'SCHEMA_VIOLATION' | 'DATA_REJECTED';

/**
 * The event itself is at fault (DESIGN §3): it goes to the DLQ unchanged and its partition moves on.
 * Throw it only when the event's own bytes prove it cannot ever take effect; any other error blocks
 * the partition and is retried (see `classifyFailure`).
 */
export class EventRejectedError extends Error {
  readonly retriable = false;
  constructor(
    readonly code: RejectionCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'EventRejectedError';
  }
}

/**
 * The SQLSTATEs that prove a value the event carries is unacceptable, whatever the state of the
 * database: the same event would be refused by every healthy database with this schema. Only these
 * turn a database error into `DATA_REJECTED`. Deliberately left out:
 * - 23502 not_null_violation: the envelope schema already refuses a null for every NOT NULL column,
 *   so a valid event meeting one means the table and the consumer disagree (a migration added a
 *   column the handler does not fill, or a handler forgot one) — every event would fail alike.
 * - 23505/23503 (unique, foreign key): the outcome depends on other rows, not on the event alone.
 * - other class 22 codes (division by zero, bad datetime formatting, …): a handler's computation,
 *   not a value the event carries.
 */
export const DATA_SQLSTATES: Readonly<Record<string, string>> = {
  '22001': 'string_data_right_truncation', // a string longer than its column
  '22003': 'numeric_value_out_of_range', // a number beyond its column (stock or version > 2^31-1)
  '22021': 'character_not_in_repertoire', // U+0000 or bytes that are not UTF-8
  '22P02': 'invalid_text_representation', // a value that does not parse as its column's type
  '23514': 'check_violation', // a value a CHECK constraint refuses
};

/** The SQLSTATE of a node-postgres error, if it carries one. */
export function sqlStateOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/**
 * Turns a database error that proves `eventId`'s data bad into an `EventRejectedError`.
 * @returns undefined for every other error: it is the environment's, and must be retried.
 */
export function dataRejection(err: unknown, eventId: string): EventRejectedError | undefined {
  const state = sqlStateOf(err);
  if (!state || !(state in DATA_SQLSTATES)) return undefined;
  return new EventRejectedError(
    'DATA_REJECTED',
    `event ${eventId} was refused by the database (${state} ${DATA_SQLSTATES[state]}): ${(err as Error).message}`,
    { cause: err },
  );
}

/** What a failure to process an event means for it. */
export type FailureClass =
  | { kind: 'rejected'; error: EventRejectedError }
  /** Anything else — database, network, Kafka, a bug: retry the same event, commit nothing. */
  | { kind: 'environment'; cause: string; sqlState?: string };

/**
 * Only an `EventRejectedError` condemns the event; everything else is the environment's: read-only
 * transactions, missing tables or columns, privileges, timeouts, locks, connections, and exceptions
 * nobody recognises (a TypeError in a handler). Guessing "the event's fault" for an unknown error
 * would dead-letter good events; guessing "the environment" at worst blocks until someone looks.
 */
export function classifyFailure(err: unknown): FailureClass {
  if (err instanceof EventRejectedError) return { kind: 'rejected', error: err };
  const sqlState = sqlStateOf(err);
  return { kind: 'environment', cause: describeError(err), ...(sqlState ? { sqlState } : {}) };
}

/** A one-line cause for logs: the error's name, its code (SQLSTATE, errno, Kafka type) and message. */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return `thrown non-error: ${String(err)}`;
  const code = (err as { code?: unknown }).code ?? (err as { type?: unknown }).type;
  const name = err.name === 'error' ? err.constructor.name : err.name; // node-postgres names its errors 'error'
  return `${name}${typeof code === 'string' || typeof code === 'number' ? ` ${code}` : ''}: ${err.message}`;
}
