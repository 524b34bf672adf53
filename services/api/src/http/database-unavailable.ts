/**
 * Whether an error means "the database cannot serve us right now" — down, restarting, failing
 * over, out of connections, too slow — rather than "this request is wrong" or a bug. The error
 * mapping answers those with 503 and Retry-After. Errors arrive as node-postgres errors, MikroORM's
 * DriverExceptions (which copy `code` from the pg error) or pg-pool's errors, possibly as the
 * `cause` of another error; all are recognised here and nowhere else.
 */

/** Socket-level failures reaching the server. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * SQLSTATEs of an unavailable or overloaded server: class 08 (connection exception), 53
 * (insufficient resources: too many connections, out of memory, disk full), 57P01–57P05 (admin or
 * crash shutdown, cannot connect now — starting up, shutting down, in recovery), 58 (system/I/O
 * error), 57014 (statement timeout), 55P03 (lock timeout) and 25006 (a read-only transaction: we
 * reached a standby during a failover).
 */
const UNAVAILABLE_SQLSTATE = /^(08...|53...|57P0[1-5]|58...|57014|55P03|25006)$/;

/** node-postgres and pg-pool failures that carry no code, by their stable messages. */
const UNAVAILABLE_MESSAGES = [
  /Connection terminated/i, // server closed the socket, or connectionTimeoutMillis elapsed
  /timeout exceeded when trying to connect/i, // pg.Pool connect timeout
  /Query read timeout/i, // pg query_timeout
  /is not queryable/i, // a client whose connection already failed or was closed
  /Connection ended unexpectedly/i,
];

/** True for the failures a retry after a short wait can fix (see above); false for anything else. */
export function isDatabaseUnavailable(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 5) return false;
  const e = err as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === 'string' && (NETWORK_CODES.has(e.code) || UNAVAILABLE_SQLSTATE.test(e.code))) {
    return true;
  }
  if (typeof e.message === 'string' && UNAVAILABLE_MESSAGES.some((m) => m.test(e.message as string))) {
    return true;
  }
  // Node's happy-eyeballs connect fails with an AggregateError of one error per address.
  if (Array.isArray(e.errors) && e.errors.some((inner) => isDatabaseUnavailable(inner, depth + 1))) {
    return true;
  }
  return isDatabaseUnavailable(e.cause, depth + 1);
}
