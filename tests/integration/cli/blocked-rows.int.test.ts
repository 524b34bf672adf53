import pg from 'pg';
import { BACKLOG_SQL, OutboxBacklogReader, PENDING_COUNT_SQL } from '@shopstream/operator';
import { buildProductEvent, migrate, newId } from '@shopstream/shared';
import {
  createTestDatabase,
  infraEnv,
  insertEvents,
  productSnapshot,
  randomGroup,
  randomTopic,
  seedOutbox,
} from '../../harness/index.js';
import type { TestDatabase } from '../../harness/index.js';
import { cliEnv, parseJson, runCli } from './cli-fixture.js';

interface StatusJson {
  outbox: {
    counts: Record<string, number>;
    pending: number;
    blocked: number;
    oldestPendingAgeSeconds: number | null;
    oldestBlockedAgeSeconds: number | null;
  };
}
interface DiagnoseJson {
  findings: { id: string; sentence: string; fix: string | null }[];
  facts: { outbox: { pending: number; blocked: number; oldestPendingAgeSeconds: number | null } };
}

/**
 * DESIGN §9, "one record refused by Kafka": the row goes DEAD and its product's later events wait.
 * Those waiting rows are blocked (blockedByDeadSql): no relay will publish them until an operator
 * requeues or skips the DEAD row, so they are reported apart — in `shopstream status`, in the DEAD
 * finding of `shopstream diagnose` — and the relay-scaling backlog (the operator's reader and KEDA's
 * query) leaves them out: more relays could not move them.
 */
describe('blocked rows: PENDING behind a DEAD row of the same product', () => {
  let db: TestDatabase;
  let sql: pg.Pool;
  let env: Record<string, string>;
  const reader = new OutboxBacklogReader();
  const topic = randomTopic('blocked.events');
  const product = newId();
  let deadId: string;

  beforeAll(async () => {
    db = await createTestDatabase('blocked');
    await migrate(db.url);
    sql = new pg.Pool({ connectionString: db.url, max: 2 });
    env = cliEnv({
      databaseUrl: db.url,
      brokers: infraEnv().kafkaBrokers,
      group: randomGroup('blocked'),
      topic,
    });

    // A published history, so a plan that reads it would show.
    await seedOutbox(sql, { topic, products: 2000, eventsPerProduct: 5 });
    await sql.query(
      `update outbox_event set status = 'PUBLISHED', published_at = now(), kafka_partition = 0, kafka_offset = seq
       where status = 'PENDING'`,
    );
    // One product whose first event Kafka refused: DEAD, and its 50 later events PENDING behind it,
    // all ten minutes old.
    const events = Array.from({ length: 51 }, (_, i) =>
      buildProductEvent(i === 0 ? 'product.created' : 'product.updated', productSnapshot(product, i + 1), {
        shardCount: 64,
        topic,
      }),
    );
    await insertEvents(sql, events);
    deadId = events[0]!.id;
    await sql.query(
      `update outbox_event set status = 'DEAD', attempts = 10,
         last_error = 'message_too_large: failed to publish 1 outbox events: MESSAGE_TOO_LARGE'
       where id = $1`,
      [deadId],
    );
    await sql.query(
      `update outbox_event set created_at = now() - interval '10 minutes' where aggregate_id = $1`,
      [product],
    );
    // Ten other products' events, 30 seconds old: what relays can publish.
    const claimable = await seedOutbox(sql, { topic, products: 10, eventsPerProduct: 1 });
    await sql.query(
      `update outbox_event set created_at = now() - interval '30 seconds' where aggregate_id = any($1::uuid[])`,
      [claimable],
    );
    await sql.query('analyze outbox_event');
  });

  afterAll(async () => {
    await reader.close();
    await sql?.end();
    await db?.drop();
  });

  it('the operator scales on the 10 claimable rows: the 50 blocked ones are neither pending nor the oldest', async () => {
    const backlog = await reader.read(db.url);
    expect(backlog.pending).toBe(10);
    // The claimable rows are 30 s old; the blocked ones, 10 minutes.
    expect(backlog.oldestPendingAgeSeconds).toBeGreaterThanOrEqual(30);
    expect(backlog.oldestPendingAgeSeconds).toBeLessThan(600);
    // KEDA polls the same count.
    const { rows } = await sql.query<{ count: string }>(PENDING_COUNT_SQL);
    expect(Number(rows[0]!.count)).toBe(10);
    const { rows: all } = await sql.query<{ n: number }>(
      `select count(*)::int as n from outbox_event where status = 'PENDING'`,
    );
    expect(all[0]!.n).toBe(60);
  });

  it('reads only unpublished rows: no published partition is in the plan of either query', async () => {
    for (const query of [BACKLOG_SQL, PENDING_COUNT_SQL]) {
      const plan = (await sql.query<{ 'QUERY PLAN': string }>(`explain ${query}`)).rows
        .map((r) => r['QUERY PLAN'])
        .join('\n');
      expect(plan).toMatch(/outbox_event_unpublished/);
      expect(plan).not.toMatch(/outbox_event_p\d|outbox_event_published/);
    }
  });

  it('status shows 10 pending and 50 blocked, apart (JSON and text)', async () => {
    const result = await runCli(['status', '--json'], env);
    const status = parseJson<StatusJson>(result).outbox;
    expect(status.counts).toMatchObject({ PENDING: 60, DEAD: 1, PUBLISHED: 10_000 });
    expect(status).toMatchObject({ pending: 10, blocked: 50 });
    expect(status.oldestPendingAgeSeconds).toBeGreaterThanOrEqual(30);
    expect(status.oldestPendingAgeSeconds).toBeLessThan(600);
    expect(status.oldestBlockedAgeSeconds).toBeGreaterThanOrEqual(600);

    const text = await runCli(['status'], env);
    expect(text.stdout).toContain('outbox: 10 pending, 50 blocked, 10000 published, 1 dead, 0 skipped');
    expect(text.stdout).toContain('blocked: 50 PENDING event(s) behind a DEAD event of their product');
    expect(text.stdout).toMatch(
      /1 DEAD event\(s\) block their products' later events and hold back 50 PENDING/,
    );
  });

  it('diagnose names the 50 held back in the DEAD finding and leaves them out of the pending age', async () => {
    const result = await runCli(['diagnose', '--json'], env);
    const report = parseJson<DiagnoseJson>(result);
    expect(report.facts.outbox).toMatchObject({ pending: 60, blocked: 50 });
    expect(report.facts.outbox.oldestPendingAgeSeconds).toBeLessThan(600);
    const dead = report.findings.filter((f) => f.id === 'dead-row');
    expect(dead).toHaveLength(1);
    expect(dead[0]!.sentence).toContain(`Product ${product} is blocked by DEAD outbox event ${deadId}`);
    expect(dead[0]!.sentence).toContain(`50 later event(s) of product ${product} are held back behind it`);
    expect(dead[0]!.sentence).toContain('error class message_too_large');
    expect(dead[0]!.fix).toBe(`npx shopstream outbox requeue ${deadId}`);
  });
});
