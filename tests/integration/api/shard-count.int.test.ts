import { sign } from 'hono/jwt';
import pg from 'pg';
import { migrate, shardOf } from '@shopstream/shared';
import { createTestDatabase, freePort, startService, waitFor } from '../../harness/index.js';
import type { ServiceProcess, TestDatabase } from '../../harness/index.js';
import { JWT_SECRET, SELLER, bearer, jsonInit } from './api-under-test.js';

describe('SHARD_COUNT has one source of truth, the database (relay_config)', () => {
  let db: TestDatabase;
  let sql: pg.Pool;
  const processes: ServiceProcess[] = [];
  beforeAll(async () => {
    db = await createTestDatabase('shards');
    await migrate(db.url);
    sql = new pg.Pool({ connectionString: db.url, max: 2 });
    sql.on('error', () => undefined);
    await sql.query(`insert into relay_config (id, shard_count) values (1, 16)`);
  });
  afterAll(async () => {
    for (const p of processes) p.child.kill('SIGKILL');
    await sql.end();
    await db.drop();
  });

  const startApi = async (env: Record<string, string>): Promise<{ api: ServiceProcess; base: string }> => {
    const port = await freePort();
    const api = startService('services/api/src/main.ts', {
      DATABASE_URL: db.url,
      JWT_SECRET,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      ...env,
    });
    processes.push(api);
    return { api, base: `http://127.0.0.1:${port}` };
  };

  it('an API with a SHARD_COUNT that differs from relay_config refuses to start, naming both numbers', async () => {
    const { api } = await startApi({ SHARD_COUNT: '64' });
    const code = await api.exited;
    expect(code).not.toBe(0);
    expect(api.output()).toMatch(/SHARD_COUNT: is 64 but this database was set up with 16 shards/);
    expect(api.output()).not.toContain('api listening');
  });

  it('an API without SHARD_COUNT shards new events by the database’s 16', async () => {
    const { api, base } = await startApi({});
    await waitFor(async () => (await fetch(`${base}/readyz`)).ok, { description: 'the API to be ready' });
    expect(api.output()).toMatch(/"shardCount":16,.*"msg":"shard count from the database"/);
    const auth = bearer(
      await sign({ sub: SELLER, exp: Math.floor(Date.now() / 1000) + 600 }, JWT_SECRET, 'HS256'),
    );
    const ids: string[] = [];
    for (let i = 0; i < 8; i += 1) {
      const res = await fetch(
        `${base}/products`,
        jsonInit('POST', { title: `Shard ${i}`, price: 2, stock: 1 }, auth),
      );
      expect(res.status).toBe(201);
      ids.push(((await res.json()) as { id: string }).id);
    }
    const { rows } = await sql.query<{ aggregate_id: string; shard: number }>(
      `select aggregate_id, shard from outbox_event where aggregate_id = any($1::uuid[])`,
      [ids],
    );
    expect(rows).toHaveLength(ids.length);
    for (const r of rows)
      expect({ id: r.aggregate_id, shard: r.shard }).toEqual({
        id: r.aggregate_id,
        shard: shardOf(r.aggregate_id, 16),
      });
    // With 64 shards three in four of these would land on another shard (all 8 agreeing by chance: 1 in 65536).
    expect(rows.some((r) => r.shard !== shardOf(r.aggregate_id, 64))).toBe(true);
    api.child.kill('SIGTERM');
    expect(await api.exited).toBe(0);
  });

  it('an API with the matching SHARD_COUNT starts', async () => {
    const { api, base } = await startApi({ SHARD_COUNT: '16' });
    await waitFor(async () => (await fetch(`${base}/readyz`)).ok, { description: 'the API to be ready' });
    api.child.kill('SIGTERM');
    expect(await api.exited).toBe(0);
  });
});
