import type { Options } from '@mikro-orm/postgresql';
import { ormConfig, pgOptions } from '@shopstream/shared';
import type { Logger, PgConnectionOptions } from '@shopstream/shared';

/** The database keys of the API's config (see config.ts). */
export interface DatabaseSettings {
  DATABASE_URL: string;
  DB_POOL_MAX: number;
  DB_CONNECT_TIMEOUT_MS: number;
  DB_ACQUIRE_TIMEOUT_MS: number;
  DB_STATEMENT_TIMEOUT_MS: number;
}

/**
 * node-postgres options for every connection of the API (DESIGN §7): connect, statement,
 * idle-in-transaction and client-side query timeouts and TCP keepalive.
 */
export function apiPgOptions(
  settings: DatabaseSettings,
  extra: { max?: number; applicationName?: string } = {},
): PgConnectionOptions {
  return pgOptions(settings.DATABASE_URL, {
    connectTimeoutMs: settings.DB_CONNECT_TIMEOUT_MS,
    statementTimeoutMs: settings.DB_STATEMENT_TIMEOUT_MS,
    // A little longer than the server's own cap, for a server that stopped answering altogether.
    queryTimeoutMs: settings.DB_STATEMENT_TIMEOUT_MS + 5_000,
    applicationName: 'shopstream-api',
    ...extra,
  });
}

/**
 * The shared MikroORM configuration with the API's pool: every pooled connection carries
 * `apiPgOptions` (MikroORM hands `driverOptions` to the `pg.Pool`, which passes them to each
 * `pg.Client`), and a request waits at most DB_ACQUIRE_TIMEOUT_MS for a free connection before it
 * fails (and is answered 503). pg-pool has one timeout for waiting for a free connection and for
 * opening a new one, so inside the pool DB_ACQUIRE_TIMEOUT_MS bounds both.
 */
export function apiOrmConfig(settings: DatabaseSettings, logger?: Logger): Options {
  const base = ormConfig({
    databaseUrl: settings.DATABASE_URL,
    poolMax: settings.DB_POOL_MAX,
    ...(logger ? { logger } : {}),
  });
  // clientUrl already says where to connect; the pool size is the ORM's own setting.
  const { connectionString: _url, max: _max, ...connection } = apiPgOptions(settings);
  return {
    ...base,
    driverOptions: {
      ...base.driverOptions,
      ...connection,
      connectionTimeoutMillis: settings.DB_ACQUIRE_TIMEOUT_MS,
    },
  };
}
