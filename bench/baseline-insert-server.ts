import { serve } from '@hono/node-server';
import { MikroORM } from '@mikro-orm/postgresql';
import { Hono } from 'hono';
import { newId, ormConfig } from '@shopstream/shared';

/**
 * The comparison point for the API benchmark: the same stack (Node, Hono, MikroORM's pool, the
 * same PostgreSQL) doing the least a write endpoint can do — one single-row INSERT, no validation,
 * no auth, no outbox, no transaction block.
 */
const databaseUrl = process.env.DATABASE_URL!;
const port = Number(process.env.PORT);
const orm = await MikroORM.init(ormConfig({ databaseUrl, poolMax: Number(process.env.DB_POOL_MAX ?? 20) }));
await orm.em
  .getConnection()
  .execute('create table if not exists bench_row (id uuid primary key, body jsonb not null)');
const app = new Hono();
app.post('/rows', async (c) => {
  const body = await c.req.json();
  const id = newId();
  await orm.em
    .getConnection()
    .execute('insert into bench_row (id, body) values (?, ?)', [id, JSON.stringify(body)]);
  return c.json({ id }, 201);
});
serve({ fetch: app.fetch, hostname: '127.0.0.1', port });
// A normal exit on SIGTERM, so `node --cpu-prof` can write its profile.
process.on('SIGTERM', () => process.exit(0));
