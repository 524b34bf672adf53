import { defineConfig } from '@mikro-orm/postgresql';
import type { Options } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import type { Logger } from '../logger.js';
import { giveBackDeadConnections } from './give-back-dead-connections.js';
import type { ClientPool } from './give-back-dead-connections.js';
import { allEntities } from './entities/index.js';
import { migrationsList } from './migrations/index.js';

export interface OrmConfigOptions {
  databaseUrl: string;
  logger?: Logger;
  /** Log every SQL statement at debug level. */
  debug?: boolean;
  poolMax?: number;
}

/**
 * The one MikroORM configuration of every process. Migrations are listed in code rather than
 * globbed from disk, so the same list works from TypeScript sources (tests) and compiled dist/.
 */
export function ormConfig(options: OrmConfigOptions): Options {
  const log = options.logger?.child({ component: 'orm' });
  return defineConfig({
    clientUrl: options.databaseUrl,
    entities: allEntities,
    discovery: { warnWhenNoEntities: false },
    extensions: [Migrator],
    migrations: {
      migrationsList,
      tableName: 'mikro_orm_migrations',
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      silent: true,
    },
    pool: { min: 0, max: options.poolMax ?? 10 },
    // MikroORM hands the pg.Pool it creates to this hook; see giveBackDeadConnections for why.
    driverOptions: { onPoolCreated: (pool: ClientPool) => giveBackDeadConnections(pool) },
    debug: options.debug ?? false,
    forceUtcTimezone: true,
    allowGlobalContext: false,
    ...(log ? { logger: (message: string) => log.debug(message) } : {}),
  });
}
