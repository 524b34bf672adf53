import pg from 'pg';
import { infraEnv, randomSchema } from '../harness/index.js';

describe('local PostgreSQL', () => {
  const client = new pg.Client({ connectionString: infraEnv().databaseUrl });
  const schema = randomSchema('smoke');

  beforeAll(() => client.connect());
  afterAll(async () => {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  });

  it('runs the pinned major version', async () => {
    const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
    expect(rows[0]?.server_version.split('.')[0]).toBe(infraEnv().versions.postgres);
  });

  it('stores and reads back rows in an isolated schema, transactionally', async () => {
    await client.query(`CREATE SCHEMA ${schema}`);
    await client.query(`CREATE TABLE ${schema}.item (id int PRIMARY KEY, name text NOT NULL)`);
    await client.query('BEGIN');
    await client.query(`INSERT INTO ${schema}.item VALUES (1, 'kept'), (2, 'kept too')`);
    await client.query('COMMIT');
    await client.query('BEGIN');
    await client.query(`INSERT INTO ${schema}.item VALUES (3, 'rolled back')`);
    await client.query('ROLLBACK');

    const { rows } = await client.query<{ id: number; name: string }>(
      `SELECT id, name FROM ${schema}.item ORDER BY id`,
    );
    expect(rows).toEqual([
      { id: 1, name: 'kept' },
      { id: 2, name: 'kept too' },
    ]);
  });
});
