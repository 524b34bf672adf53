import { MikroORM } from '@mikro-orm/postgresql';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import {
  OutboxAdmin,
  createLogger,
  defaultDlqTopic,
  kafkaSecurityOptions,
  resolveShardCount,
} from '@shopstream/shared';
import type { Logger } from '@shopstream/shared';
import type { AdminDeps } from './admin/admin-routes.js';
import { KafkaDlqSource } from './admin/kafka-dlq-source.js';
import { KafkaLagSource } from './admin/kafka-lag-source.js';
import { KafkaRefusals } from './admin/kafka-refusals.js';
import { unconfiguredLag } from './admin/lag-source.js';
import { apiOrmConfig, apiPgOptions } from './adapters/database-options.js';
import { PostgresProductStore } from './adapters/product-store.js';
import { RelayWakeup, notifyThrough } from './adapters/relay-wakeup.js';
import { PostgresSearchIndex } from './adapters/search-index.js';
import { createApp } from './app.js';
import { loadConfig } from './config.js';
import type { ApiConfig } from './config.js';
import type { SellerAuthConfig } from './http/auth.js';
import { listen } from './http/server.js';

/**
 * The admin page's adapters, only with ADMIN_TOKEN: a small pg pool for the outbox statements it
 * shares with the CLI, and, when KAFKA_BROKERS is set, a Kafka admin client for the lag table and
 * the DLQ view (the DlqAdmin it shares with `shopstream dlq`).
 */
function adminDeps(
  config: ApiConfig,
  logger: Logger,
): { deps: AdminDeps; close(): Promise<void> } | undefined {
  if (!config.ADMIN_TOKEN) return undefined;
  const pool = new pg.Pool(apiPgOptions(config, { max: 2, applicationName: 'shopstream-api-admin' }));
  // An idle client that loses its server emits 'error'; unhandled, that would end the process.
  pool.on('error', (err) => logger.warn({ err }, 'admin database connection lost'));
  const kafka = config.KAFKA_BROKERS
    ? new Kafka({
        clientId: 'shopstream-api-admin',
        brokers: config.KAFKA_BROKERS,
        logLevel: logLevel.NOTHING,
        connectionTimeout: 3_000,
        requestTimeout: 5_000,
        retry: { retries: 1 },
        ...kafkaSecurityOptions(config),
      })
    : undefined;
  const refusals = new KafkaRefusals(config, config.KAFKA_BROKERS ?? []);
  const lag = kafka
    ? new KafkaLagSource(kafka.admin(), {
        groupId: config.CONSUMER_GROUP_ID,
        topic: config.CONSUMER_TOPIC,
        startFrom: config.CONSUMER_START_FROM,
        refusals,
      })
    : undefined;
  const dlq = kafka
    ? new KafkaDlqSource(kafka, config.CONSUMER_DLQ_TOPIC ?? defaultDlqTopic(config.CONSUMER_TOPIC), refusals)
    : undefined;
  return {
    deps: {
      adminToken: config.ADMIN_TOKEN,
      outbox: new OutboxAdmin(pool),
      lag: lag ?? unconfiguredLag,
      ...(dlq ? { dlq } : {}),
      logger,
    },
    close: async () => {
      await lag?.close();
      await pool.end();
    },
  };
}

/**
 * The shard count new events are hashed with: the database's (relay_config), checked against
 * SHARD_COUNT when set. @throws ConfigError naming both numbers when they differ.
 */
async function databaseShardCount(config: ApiConfig): Promise<number> {
  const client = new pg.Client(apiPgOptions(config));
  await client.connect();
  try {
    return await resolveShardCount(client, config.SHARD_COUNT);
  } finally {
    await client.end();
  }
}

function authConfig(config: ApiConfig, logger: Logger): SellerAuthConfig {
  const claims = {
    ...(config.JWT_ISSUER ? { issuer: config.JWT_ISSUER } : {}),
    ...(config.JWT_AUDIENCE ? { audience: config.JWT_AUDIENCE } : {}),
  };
  if (config.JWT_SECRET) return { jwtSecret: config.JWT_SECRET, ...claims };
  // The config refuses JWT_JWKS_URL without both issuer and audience.
  return {
    jwksUrl: config.JWT_JWKS_URL!,
    issuer: config.JWT_ISSUER!,
    audience: config.JWT_AUDIENCE!,
    jwksMaxAgeMs: config.JWKS_MAX_AGE_MS,
    jwksMinRefreshIntervalMs: config.JWKS_MIN_REFRESH_INTERVAL_MS,
    jwksFetchTimeoutMs: config.JWKS_FETCH_TIMEOUT_MS,
    logger,
  };
}

/** Composition root of the API process: config, logger, ORM, app, server, graceful shutdown. */
async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const logger = createLogger({ name: 'api', level: config.LOG_LEVEL });
  const shardCount = await databaseShardCount(config);
  logger.info({ shardCount }, 'shard count from the database');
  const orm = await MikroORM.init(apiOrmConfig(config, logger));
  // The writes' raw statements share the ORM's pg pool: one DB_POOL_MAX budget, the same timeouts,
  // and the pool's give-back of dead connections (shared ormConfig's onPoolCreated).
  const pool = await orm.em.getConnection().getNativeClient();
  const relays = new RelayWakeup(notifyThrough(pool), logger.child({ component: 'relay-wakeup' }));
  const admin = adminDeps(config, logger);
  if (!admin) logger.info('admin page disabled: ADMIN_TOKEN is not set');
  const app = createApp({
    logger,
    ...(admin ? { admin: admin.deps } : {}),
    products: {
      store: new PostgresProductStore(pool, orm.em),
      clock: { now: () => new Date() },
      shardCount,
      topic: config.PRODUCT_EVENTS_TOPIC,
      relays,
    },
    search: new PostgresSearchIndex(orm.em, {
      candidateLimit: config.SEARCH_CANDIDATE_LIMIT,
      statementTimeoutMs: config.SEARCH_STATEMENT_TIMEOUT_MS,
    }),
    auth: authConfig(config, logger),
    pingDatabase: async () => {
      await orm.em.getConnection().execute('select 1', [], 'get', undefined);
    },
  });

  const server = listen(app, { hostname: config.HOST, port: config.PORT, logger }, (info) =>
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
      await relays.settled();
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
