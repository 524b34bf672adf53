import pg from 'pg';
import { infraEnv } from './infra.js';
import { randomSchema } from './names.js';
/** A fresh, empty PostgreSQL database on the local server: each test file gets its own. */
export async function createTestDatabase(prefix = 'test') {
  const admin = infraEnv().databaseUrl;
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
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
//# sourceMappingURL=databases.js.map
