import { serve } from '@hono/node-server';
import { MikroORM } from '@mikro-orm/postgresql';
import { createLogger, ormConfig } from '@shopstream/shared';
import { MikroOrmProductStore } from './adapters/product-store.js';
import { PostgresSearchIndex } from './adapters/search-index.js';
import { createApp } from './app.js';
import { loadConfig } from './config.js';

/** Composition root of the API process: config, logger, ORM, app, server, graceful shutdown. */
async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const logger = createLogger({ name: 'api', level: config.LOG_LEVEL });
  const orm = await MikroORM.init(
    ormConfig({ databaseUrl: config.DATABASE_URL, logger, poolMax: config.DB_POOL_MAX }),
  );
  const app = createApp({
    logger,
    products: {
      store: new MikroOrmProductStore(orm.em),
      clock: { now: () => new Date() },
      shardCount: config.SHARD_COUNT,
      topic: config.PRODUCT_EVENTS_TOPIC,
    },
    search: new PostgresSearchIndex(orm.em),
    auth: config.JWT_SECRET ? { jwtSecret: config.JWT_SECRET } : { jwksUrl: config.JWT_JWKS_URL! },
    pingDatabase: async () => {
      await orm.em.getConnection().execute('select 1', [], 'get', undefined);
    },
  });

  const server = serve({ fetch: app.fetch, hostname: config.HOST, port: config.PORT }, (info) =>
    logger.info({ host: info.address, port: info.port }, 'api listening'),
  );

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: no new connections, finishing in-flight requests');
    const force = setTimeout(() => {
      logger.warn({ timeoutMs: config.SHUTDOWN_TIMEOUT_MS }, 'in-flight requests did not finish in time');
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS);
    force.unref();
    server.close(async () => {
      await orm.close();
      logger.info('stopped');
      process.exit(0);
    });
    // Idle keep-alive sockets would hold close() open forever; busy ones finish their request first.
    if ('closeIdleConnections' in server) server.closeIdleConnections();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  // The logger may not exist yet (bad config): write one JSON line by hand and exit non-zero.
  process.stderr.write(
    `${JSON.stringify({ level: 'fatal', msg: 'api failed to start', err: String(err) })}\n`,
  );
  process.exit(1);
});
