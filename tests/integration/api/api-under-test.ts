import type { Server } from 'node:http';
import { MikroORM } from '@mikro-orm/postgresql';
import { sign } from 'hono/jwt';
import pg from 'pg';
import { pino } from 'pino';
import {
  PostgresProductStore,
  PostgresSearchIndex,
  RelayWakeup,
  apiOrmConfig,
  createApp,
  listen,
  notifyThrough,
} from '@shopstream/api';
import type { Clock, Notify, SearchLimits, SellerAuthConfig } from '@shopstream/api';
import { migrate, resolveShardCount } from '@shopstream/shared';
import { createTestDatabase, freePort } from '../../harness/index.js';
import type { TestDatabase } from '../../harness/index.js';

export const SELLER = '3fa85f64-5717-4562-b3fc-2c963f66afa6';
export const OTHER_SELLER = '0b0b0b0b-1111-4222-8333-444455556666';
export const JWT_SECRET = 'test-secret-that-is-at-least-32-characters-long';

export interface ApiUnderTest {
  request(path: string, init?: RequestInit): Promise<Response>;
  /** A seller token signed like production ones (HS256), valid for an hour unless `exp` says otherwise. */
  token(
    sub?: string,
    options?: { exp?: number; secret?: string; extra?: Record<string, unknown> },
  ): Promise<string>;
  sql: pg.Pool;
  db: TestDatabase;
  /** The app's own ORM, for what only its pooled connections can show (their session settings). */
  orm: MikroORM;
  /** The relay wake-ups the app sends after its writes. */
  relays: RelayWakeup;
  /** `http://127.0.0.1:<port>` when started with `listen`: the app behind the API's real HTTP server. */
  baseUrl?: string;
  close(): Promise<void>;
}

export interface StartOptions {
  /** How writes verify tokens; HS256 with JWT_SECRET by default. */
  auth?: SellerAuthConfig;
  /** The clock products are stamped with (and ce_time); the real one by default. */
  clock?: Clock;
  /** Also serve the app over HTTP on a free loopback port, through the API's own `listen`. */
  listen?: boolean;
  /** The search route's candidate cap and statement timeout; the defaults otherwise. */
  search?: SearchLimits;
  /** The ORM pool's size (DB_POOL_MAX); 10 by default. */
  poolMax?: number;
  /** How long a request waits for a pooled connection (DB_ACQUIRE_TIMEOUT_MS); 5 s by default. */
  acquireTimeoutMs?: number;
  /** Where relay wake-ups are sent; the app's own pool (as in the process) by default. */
  notify?: Notify;
}

/**
 * The real API app on a fresh, migrated database, driven in-process through `app.request()` (and,
 * with `listen`, over real HTTP). Its pool is the API's own (`apiOrmConfig`, with the timeouts), and
 * its shard count comes from the database as in the process.
 */
export async function startApi(options: StartOptions = {}): Promise<ApiUnderTest> {
  const db = await createTestDatabase('api');
  await migrate(db.url);
  const logger = pino({ level: 'silent' });
  const orm = await MikroORM.init(
    apiOrmConfig({
      DATABASE_URL: db.url,
      DB_POOL_MAX: options.poolMax ?? 10,
      DB_CONNECT_TIMEOUT_MS: 5_000,
      DB_ACQUIRE_TIMEOUT_MS: options.acquireTimeoutMs ?? 5_000,
      DB_STATEMENT_TIMEOUT_MS: 10_000,
    }),
  );
  const sql = new pg.Pool({ connectionString: db.url, max: 3 });
  // An idle client ended by the server (e.g. DROP DATABASE … WITH (FORCE) at teardown) emits
  // 'error' on the pool; unhandled, it fails whichever test is running. Queries still fail normally.
  sql.on('error', () => undefined);
  const pool = await orm.em.getConnection().getNativeClient();
  const relays = new RelayWakeup(options.notify ?? notifyThrough(pool), logger);
  const app = createApp({
    logger,
    products: {
      store: new PostgresProductStore(pool, orm.em),
      clock: options.clock ?? { now: () => new Date() },
      shardCount: await resolveShardCount(sql, undefined),
      topic: 'product.events',
      relays,
    },
    search: new PostgresSearchIndex(orm.em, options.search),
    auth: options.auth ?? { jwtSecret: JWT_SECRET },
    pingDatabase: async () => {
      await orm.em.getConnection().execute('select 1');
    },
  });
  let server: Server | undefined;
  let baseUrl: string | undefined;
  if (options.listen) {
    const port = await freePort();
    await new Promise<void>((resolve) => {
      server = listen(app, { hostname: '127.0.0.1', port }, () => resolve());
    });
    baseUrl = `http://127.0.0.1:${port}`;
  }
  return {
    ...(baseUrl ? { baseUrl } : {}),
    request: async (path, init) => app.request(path, init),
    token: (sub = SELLER, options = {}) =>
      sign(
        { sub, exp: options.exp ?? Math.floor(Date.now() / 1000) + 3600, ...options.extra },
        options.secret ?? JWT_SECRET,
        'HS256',
      ),
    sql,
    db,
    orm,
    relays,
    close: async () => {
      if (server) {
        const s = server;
        s.closeAllConnections();
        await new Promise((resolve) => s.close(resolve));
      }
      await relays.settled();
      await sql.end();
      await orm.close(true);
      await db.drop();
    },
  };
}

export const jsonInit = (
  method: string,
  body: unknown,
  headers: Record<string, string> = {},
): RequestInit => ({
  method,
  headers: { 'Content-Type': 'application/json', ...headers },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

export const bearer = (token: string): Record<string, string> => ({ Authorization: `Bearer ${token}` });

/** Counts of what the write path left behind: the "nothing was written" assertions read these. */
export async function rowCounts(sql: pg.Pool): Promise<{ products: number; events: number; keys: number }> {
  const { rows } = await sql.query<{ products: string; events: string; keys: string }>(
    `select (select count(*) from product) as products, (select count(*) from outbox_event) as events,
            (select count(*) from idempotency_key) as keys`,
  );
  const r = rows[0]!;
  return { products: Number(r.products), events: Number(r.events), keys: Number(r.keys) };
}
