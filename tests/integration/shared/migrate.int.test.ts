import pg from 'pg';
import { createTestDatabase } from '../../harness/index.js';
import type { TestDatabase } from '../../harness/index.js';
import { MikroORM } from '@mikro-orm/postgresql';
import { OutboxEventEntity, migrate, ormConfig, schemaDriftSql } from '@shopstream/shared';

describe('migrations', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('migrate');
  });
  afterAll(() => db.drop());

  it('apply once, then a second run applies nothing', async () => {
    expect(await migrate(db.url)).toEqual([
      'Migration20261129000000_initial',
      'Migration20261129010000_relay',
      'Migration20261129020000_pending_seq_index',
      'Migration20261129030000_consumer',
      'Migration20261202000000_relay_config',
      'Migration20261202010000_outbox_subtree',
      'Migration20261202020000_inbox_retention',
      'Migration20261203000000_outbox_hot_path',
    ]);
    expect(await migrate(db.url)).toEqual([]);
  });

  it('create exactly the schema the entities describe', async () => {
    expect(await schemaDriftSql(db.url)).toBe('');
  });

  it('leave on the unpublished partition only the indexes its hot paths read', async () => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ indexdef: string }>(
        `select indexdef from pg_indexes where tablename = 'outbox_event_unpublished' order by indexname`,
      );
      const defs = rows.map((r) => r.indexdef.replace(/^.* USING btree /, ''));
      expect(defs).toEqual([
        // the claim: oldest PENDING rows in commit order
        "(seq) WHERE (status = 'PENDING'::text)",
        // the per-product head-of-line check
        '(aggregate_id, seq)',
        // uniqueness of a product's versions
        '(aggregate_type, aggregate_id, aggregate_version)',
        // the purge of old DEAD/SKIPPED rows
        "(created_at) WHERE (status = ANY (ARRAY['DEAD'::text, 'SKIPPED'::text]))",
        // the primary key, and nothing duplicating it
        '(id)',
      ]);
      const { rows: payload } = await client.query<{ data_type: string }>(
        `select data_type from information_schema.columns where table_name = 'outbox_event' and column_name = 'payload'`,
      );
      // json keeps the API's text as it came: the relay sends it as is.
      expect(payload[0]?.data_type).toBe('json');
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

describe('the partitioned outbox_event table', () => {
  it('has exactly the columns the OutboxEvent entity maps', async () => {
    const db = await createTestDatabase('outbox_columns');
    try {
      await migrate(db.url);
      const orm = await MikroORM.init(ormConfig({ databaseUrl: db.url, poolMax: 1 }));
      const mapped = orm
        .getMetadata()
        .find(OutboxEventEntity)!
        .props.flatMap((p) => p.fieldNames)
        .sort();
      await orm.close(true);
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      const { rows } = await client.query<{ column_name: string }>(
        `select column_name from information_schema.columns where table_name = 'outbox_event'`,
      );
      await client.end();
      expect(rows.map((r) => r.column_name).sort()).toEqual(mapped);
    } finally {
      await db.drop();
    }
  });
});
