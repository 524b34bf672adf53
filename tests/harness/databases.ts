import pg from 'pg';
import { infraEnv } from './infra.js';
import { randomSchema } from './names.js';

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/**
 * A fresh, empty PostgreSQL database on the local server (or on the server `admin` points at, e.g. a
 * private one): each test file gets its own.
 */
export async function createTestDatabase(
  prefix = 'test',
  admin: string = infraEnv().databaseUrl,
): Promise<TestDatabase> {
  const name = randomSchema(prefix);
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      try {
        // pg.Pool#end() resolves once its clients are removed, not once their sockets have closed;
        // FORCE would terminate such a closing client, and pg-pool re-emits that as an 'error' on a
        // pool nobody listens to any more (an unhandled error in whatever test runs then). So give
        // closing sessions a moment to go; sessions still open after it are what FORCE is for.
        for (let i = 0; i < 20; i++) {
          const { rows } = await c.query<{ n: number }>(
            'select count(*)::int as n from pg_stat_activity where datname = $1',
            [name],
          );
          if (rows[0]!.n === 0) break;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
