/**
 * Why an event could not take effect. Non-retriable errors are the event's fault (it goes to the
 * DLQ and the partition moves on); retriable ones are the world's (retry, commit nothing).
 */
export class EventRejectedError extends Error {
  readonly retriable = false;
  constructor(
    readonly code:
      'BAD_ENVELOPE' | 'BAD_PAYLOAD' | 'UNKNOWN_EVENT_TYPE' | 'SCHEMA_VIOLATION' | 'DATA_REJECTED',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'EventRejectedError';
  }
}

/** PostgreSQL error classes that mean "try again": connection trouble, shutdown, serialization, deadlock. */
const retriableSqlState = /^(08|53|57P|40001|40P01)/;
const retriableNodeCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND']);

export function isRetriable(err: unknown): boolean {
  if (err instanceof EventRejectedError) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (retriableSqlState.test(code) || retriableNodeCodes.has(code))) return true;
  const message = (err as Error)?.message ?? '';
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(
    message,
  );
}
