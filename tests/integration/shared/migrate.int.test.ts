import pg from 'pg';
import { createTestDatabase } from '../../harness/index.js';
import type { TestDatabase } from '../../harness/index.js';
import { migrate, schemaDriftSql } from '@shopstream/shared';

describe('migrations', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('migrate');
  });
  afterAll(() => db.drop());

  it('apply once, then a second run applies nothing', async () => {
    expect(await migrate(db.url)).toEqual(['Migration20261129000000_initial', 'Migration20261129010000_relay']);
    expect(await migrate(db.url)).toEqual([]);
  });

  it('create exactly the schema the entities describe', async () => {
    expect(await schemaDriftSql(db.url)).toBe('');
  });

  it('create the partial index the relay claims rows through', async () => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ indexdef: string }>(
        `select indexdef from pg_indexes where indexname = 'outbox_event_pending_idx'`,
      );
      expect(rows[0]?.indexdef).toMatch(/\(shard, seq\) WHERE \(status = 'PENDING'::text\)/);
    } finally {
      await client.end();
    }
  });
});

describe('the entity/migration drift check', () => {
  it('reports a schema that no longer matches the entities', async () => {
    const db = await createTestDatabase('drift');
    try {
      await migrate(db.url);
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      await client.query('drop index product_seller_id_id_idx');
      await client.end();
      expect(await schemaDriftSql(db.url)).toMatch(/create index "product_seller_id_id_idx"/);
    } finally {
      await db.drop();
    }
  });
});
