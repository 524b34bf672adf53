import { ConfigError } from '../config.js';
import { DEFAULT_SHARD_COUNT } from '../events/shard.js';
import type { SqlClient } from '../outbox/outbox-admin.js';

/**
 * The shard count of this database (DESIGN §2): the API shards new events by it and every relay
 * owns shards of it, so a process configured with another number would silently strand or mix
 * events. The first process against an empty database records its `configured` value (64 when
 * unset); later ones adopt the stored value, and refuse to start if they were configured otherwise.
 * @throws ConfigError naming both numbers on a mismatch.
 */
export async function resolveShardCount(db: SqlClient, configured: number | undefined): Promise<number> {
  await db.query(`insert into relay_config (id, shard_count) values (1, $1) on conflict (id) do nothing`, [
    configured ?? DEFAULT_SHARD_COUNT,
  ]);
  const { rows } = await db.query<{ shard_count: number }>(
    `select shard_count from relay_config where id = 1`,
  );
  const stored = rows[0]?.shard_count;
  if (stored === undefined) throw new Error('relay_config has no row after inserting it');
  if (configured !== undefined && configured !== stored) {
    throw new ConfigError([
      `SHARD_COUNT: is ${configured} but this database was set up with ${stored} shards (table relay_config); ` +
        `unset SHARD_COUNT or set it to ${stored} (changing the shard count of a live outbox needs a migration)`,
    ]);
  }
  return stored;
}
