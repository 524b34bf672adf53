import { serve } from '@hono/node-server';
import { MikroORM } from '@mikro-orm/postgresql';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { OutboxAdmin, createLogger, kafkaSecurityOptions, ormConfig } from '@shopstream/shared';
import type { Logger } from '@shopstream/shared';
import type { AdminDeps } from './admin/admin-routes.js';
import { KafkaLagSource } from './admin/kafka-lag-source.js';
import { unconfiguredLag } from './admin/lag-source.js';
import { MikroOrmProductStore } from './adapters/product-store.js';
import { PostgresSearchIndex } from './adapters/search-index.js';
import { createApp } from './app.js';
import { loadConfig } from './config.js';
import type { ApiConfig } from './config.js';

/**
 * The admin page's adapters, only with ADMIN_TOKEN: a small pg pool for the outbox statements it
 * shares with the CLI, and a Kafka admin client for the lag table when KAFKA_BROKERS is set.
 */
function adminDeps(
  config: ApiConfig,
  logger: Logger,
): { deps: AdminDeps; close(): Promise<void> } | undefined {
  if (!config.ADMIN_TOKEN) return undefined;
  const pool = new pg.Pool({ connectionString: config.DATABASE_URL, max: 2 });
  // An idle client that loses its server emits 'error'; unhandled, that would end the process.
  pool.on('error', (err) => logger.warn({ err }, 'admin database connection lost'));
  const lag = config.KAFKA_BROKERS
    ? new KafkaLagSource(
        new Kafka({
          clientId: 'shopstream-api-admin',
          brokers: config.KAFKA_BROKERS,
          logLevel: logLevel.NOTHING,
          connectionTimeout: 3_000,
          requestTimeout: 5_000,
          retry: { retries: 1 },
          ...kafkaSecurityOptions(config),
        }).admin(),
        {
          groupId: config.CONSUMER_GROUP_ID,
          topic: config.CONSUMER_TOPIC,
          startFrom: config.CONSUMER_START_FROM,
        },
      )
    : undefined;
  return {
    deps: {
      adminToken: config.ADMIN_TOKEN,
      outbox: new OutboxAdmin(pool),
      lag: lag ?? unconfiguredLag,
      logger,
    },
    close: async () => {
      await lag?.close();
      await pool.end();
    },
  };
}

/** Composition root of the API process: config, logger, ORM, app, server, graceful shutdown. */
async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const logger = createLogger({ name: 'api', level: config.LOG_LEVEL });
  const orm = await MikroORM.init(
    ormConfig({ databaseUrl: config.DATABASE_URL, logger, poolMax: config.DB_POOL_MAX }),
  );
  const admin = adminDeps(config, logger);
  if (!admin) logger.info('admin page disabled: ADMIN_TOKEN is not set');
  const app = createApp({
    logger,
    ...(admin ? { admin: admin.deps } : {}),
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
      await admin?.close();
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
