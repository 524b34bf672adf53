import pg from 'pg';
import { loadConfig } from './config.js';
import { KafkaPublisher } from './kafka-publisher.js';
import { RelayMetrics } from './metrics.js';
import { OutboxListener } from './outbox-listener.js';
import { OutboxStore } from './outbox-store.js';
import { Relay } from './relay.js';
import { OutboxRetention } from './retention.js';
import { createLogger, runWorkerProcess } from '@shopstream/shared';
import { ShardOwnership } from './shard-ownership.js';

/** Composition root of a relay process. SIGTERM: finish the batch, release shards, exit 0. */
async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const log = createLogger({ name: 'relay', level: config.LOG_LEVEL }).child({ relayId: config.RELAY_ID });
  const pool = new pg.Pool({ connectionString: config.DATABASE_URL, max: 4 });
  pool.on('error', (err) => log.warn({ err }, 'idle database connection failed'));
  const metrics = new RelayMetrics();
  const publisher = new KafkaPublisher({
    brokers: config.KAFKA_BROKERS,
    clientId: config.KAFKA_CLIENT_ID,
    requestTimeoutMs: config.KAFKA_REQUEST_TIMEOUT_MS,
    security: config,
    log,
  });
  const ownership = new ShardOwnership(
    pool,
    { owner: config.RELAY_ID, shardCount: config.SHARD_COUNT, leaseMs: config.RELAY_LEASE_MS },
    log,
  );
  let relay: Relay | undefined = undefined;
  const listener = new OutboxListener(config.DATABASE_URL, (shard) => relay?.notify(shard), log);
  relay = new Relay(
    {
      pool,
      ownership,
      store: new OutboxStore(pool, config.RELAY_ID),
      publisher,
      retention: new OutboxRetention(pool, log),
      listener,
      metrics,
      log,
    },
    {
      batchSize: config.RELAY_BATCH_SIZE,
      maxAttempts: config.RELAY_MAX_ATTEMPTS,
      backoffBaseMs: config.RELAY_BACKOFF_BASE_MS,
      backoffMaxMs: config.RELAY_BACKOFF_MAX_MS,
      pollIntervalMs: config.RELAY_POLL_INTERVAL_MS,
      heartbeatMs: config.RELAY_HEARTBEAT_MS,
      maintenanceIntervalMs: config.RELAY_MAINTENANCE_INTERVAL_MS,
      retentionHours: config.RELAY_RETENTION_HOURS,
    },
  );
  await runWorkerProcess({
    log,
    start: () => relay.start(),
    ops: {
      host: config.METRICS_HOST,
      port: config.METRICS_PORT,
      registry: metrics.registry,
      ready: async () => {
        await pool.query('select 1');
        return publisher.isConnected;
      },
    },
    stopMessage: 'shutting down: finishing the in-flight batch, then releasing shards',
    stop: async () => {
      await relay.stop();
      await pool.end();
    },
  });
}

main().catch((err: unknown) => {
  process.stderr.write(
    `${JSON.stringify({ level: 'fatal', msg: 'relay failed to start', err: String(err) })}\n`,
  );
  process.exit(1);
});
