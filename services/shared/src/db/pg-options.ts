/** The node-postgres pool/client options we set; structural, so this package needs no `pg` of its own. */
export interface PgConnectionOptions {
  connectionString: string;
  max?: number;
  application_name?: string;
  connectionTimeoutMillis: number;
  statement_timeout: number;
  idle_in_transaction_session_timeout: number;
  query_timeout: number;
  keepAlive: boolean;
  keepAliveInitialDelayMillis: number;
}

/** Timeouts every PostgreSQL connection of ours carries (DESIGN §7). */
export interface PgTimeouts {
  /** Giving up on opening a connection (a dead host answers nothing; pg's default waits forever). */
  connectTimeoutMs: number;
  /** Server-side cap on one statement. */
  statementTimeoutMs: number;
  /** Server ends a session left idle inside a transaction (a hung client must not hold row locks). */
  idleInTransactionTimeoutMs: number;
  /** Client-side cap on one query, for a server that stopped answering without closing the socket. */
  queryTimeoutMs: number;
}

export const DEFAULT_PG_TIMEOUTS: PgTimeouts = {
  connectTimeoutMs: 5_000,
  statementTimeoutMs: 30_000,
  idleInTransactionTimeoutMs: 60_000,
  queryTimeoutMs: 35_000,
};

/**
 * node-postgres options with connect, statement and idle-in-transaction timeouts and TCP keepalive,
 * for every pg.Pool and pg.Client the processes open. Without them a half-open connection (a
 * PostgreSQL failover, a dropped NAT entry) hangs a query for the kernel's TCP timeout — minutes —
 * and a relay holding it can neither heartbeat nor notice that its lease lapsed.
 */
export function pgOptions(
  connectionString: string,
  options: Partial<PgTimeouts> & { max?: number; applicationName?: string } = {},
): PgConnectionOptions {
  const t = { ...DEFAULT_PG_TIMEOUTS, ...options };
  return {
    connectionString,
    ...(options.max !== undefined ? { max: options.max } : {}),
    ...(options.applicationName ? { application_name: options.applicationName } : {}),
    connectionTimeoutMillis: t.connectTimeoutMs,
    statement_timeout: t.statementTimeoutMs,
    idle_in_transaction_session_timeout: t.idleInTransactionTimeoutMs,
    query_timeout: t.queryTimeoutMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  };
}
