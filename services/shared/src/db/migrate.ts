import { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from '../logger.js';
import { ormConfig } from './orm-config.js';

/**
 * Applies every pending migration, in one transaction. Idempotent: a second run applies nothing.
 * @returns the names of the migrations applied by this call.
 */
export async function migrate(databaseUrl: string, logger?: Logger): Promise<string[]> {
  const orm = await MikroORM.init(ormConfig({ databaseUrl, poolMax: 1, ...(logger ? { logger } : {}) }));
  try {
    const applied = await orm.migrator.up();
    return applied.map((m) => m.name);
  } finally {
    await orm.close(true);
  }
}

/**
 * The SQL that would make the database match the entities; empty when they agree. This is the check that fails a
 * build where someone changed an entity and forgot the migration (or the other way round).
 */
export async function schemaDriftSql(databaseUrl: string): Promise<string> {
  const base = ormConfig({ databaseUrl, poolMax: 1 });
  // outbox_event is partitioned and product_search has a generated tsvector column: MikroORM's
  // differ models neither, so their layouts are checked by their own tests and the rest here.
  const orm = await MikroORM.init({
    ...base,
    schemaGenerator: { ...base.schemaGenerator, skipTables: [/^outbox_event/, 'product_search'] },
  });
  try {
    return await orm.schema.getUpdateSchemaSQL({ wrap: false, safe: false, dropTables: false });
  } finally {
    await orm.close(true);
  }
}
