import pg from 'pg';
import {
  ConfigError,
  createLogger,
  pgOptions,
  resolveShardCount,
  runWorkerProcess,
} from '@shopstream/shared';
import { loadConfig } from './config.js';
import { KafkaPublisher } from './kafka-publisher.js';
import { RelayMetrics } from './metrics.js';
import { OutboxListener } from './outbox-listener.js';
import { OutboxStore } from './outbox-store.js';
import { Relay } from './relay.js';
import { OutboxMaintenance } from './outbox-maintenance.js';
import { ShardOwnership } from './shard-ownership.js';

/** Composition root of a relay process. SIGTERM: finish the batch, release shards, exit 0. */
async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const log = createLogger({ name: 'relay', level: config.LOG_LEVEL }).child({ relayId: config.RELAY_ID });
  // Statements must end well inside a lease: a relay stuck on a query must not outlive its shards.
  const statementTimeoutMs = Math.max(1_000, Math.floor(config.RELAY_LEASE_MS / 2));
  const connection = (max: number) =>
    pgOptions(config.DATABASE_URL, {
      max,
      applicationName: `shopstream-relay ${config.RELAY_ID}`.slice(0, 63),
      connectTimeoutMs: Math.min(5_000, statementTimeoutMs),
      statementTimeoutMs,
      queryTimeoutMs: statementTimeoutMs + 1_000,
    });
  // Parallel workers add only IPC waits to the loop's short index walks on small hosts.
  const pool = new pg.Pool({ ...connection(4), options: '-c max_parallel_workers_per_gather=0' });
  pool.on('error', (err) => log.warn({ err }, 'idle database connection failed'));
  const shardCount = await resolveShardCount(pool, config.SHARD_COUNT);
  const metrics = new RelayMetrics();
  const publisher = new KafkaPublisher({
    brokers: config.KAFKA_BROKERS,
    clientId: config.KAFKA_CLIENT_ID,
    sendTimeoutMs: config.KAFKA_REQUEST_TIMEOUT_MS,
    security: config,
    compression: config.RELAY_COMPRESSION,
    log,
  });
  const ownership = new ShardOwnership(
    pool,
    { owner: config.RELAY_ID, shardCount, leaseMs: config.RELAY_LEASE_MS },
    log,
  );
  let relay: Relay | undefined = undefined;
  const listener = new OutboxListener(connection(1), (shard) => relay?.notify(shard), log);
  // Its own connection: a run waits on lock timeouts for seconds and must not starve the loop's pool.
  const maintenancePool = new pg.Pool(connection(1));
  maintenancePool.on('error', (err) => log.warn({ err }, 'idle maintenance connection failed'));
  const maintenance = new OutboxMaintenance(maintenancePool, log, {
    retentionHours: config.RELAY_RETENTION_HOURS,
    hoursAhead: config.RELAY_PARTITION_HOURS_AHEAD,
    lockTimeoutMs: config.RELAY_MAINTENANCE_LOCK_TIMEOUT_MS,
    idempotencyTtlHours: config.RELAY_IDEMPOTENCY_TTL_HOURS,
    deadRetentionHours: config.RELAY_DEAD_RETENTION_HOURS,
  });
  relay = new Relay(
    {
      ownership,
      store: new OutboxStore(pool, config.RELAY_ID),
      publisher,
      maintenance,
      listener,
      metrics,
      log,
    },
    {
      batchSize: config.RELAY_BATCH_SIZE,
      batchMaxBytes: config.RELAY_BATCH_MAX_BYTES,
      maxAttempts: config.RELAY_MAX_ATTEMPTS,
      backoffBaseMs: config.RELAY_BACKOFF_BASE_MS,
      backoffMaxMs: config.RELAY_BACKOFF_MAX_MS,
      sendTimeoutMs: config.KAFKA_REQUEST_TIMEOUT_MS,
      fenceMarginMs: config.RELAY_FENCE_MARGIN_MS,
      maxRecordBytes: config.RELAY_MAX_RECORD_BYTES,
      pollIntervalMs: config.RELAY_POLL_INTERVAL_MS,
      heartbeatMs: config.RELAY_HEARTBEAT_MS,
      leaseMs: config.RELAY_LEASE_MS,
      circuitBaseMs: config.RELAY_CIRCUIT_BASE_MS,
      circuitMaxMs: config.RELAY_CIRCUIT_MAX_MS,
      maintenanceIntervalMs: config.RELAY_MAINTENANCE_INTERVAL_MS,
    },
  );
  await runWorkerProcess({
    log,
    start: () => relay.start(),
    ops: {
      host: config.METRICS_HOST,
      port: config.METRICS_PORT,
      registry: metrics.registry,
      // Ready = the publish loop makes progress and the database answers. An open circuit is not
      // "unready": the process is fine, Kafka is not, and restarting it would change nothing.
      ready: async () => {
        if (!relay.progressing) return false;
        await pool.query('select 1');
        return true;
      },
    },
    stopMessage: 'shutting down: finishing the in-flight batch, then releasing shards',
    stop: async () => {
      await relay.stop();
      await Promise.all([pool.end(), maintenancePool.end()]);
    },
  });
}

main().catch((err: unknown) => {
  const message = err instanceof ConfigError ? err.message : String(err);
  process.stderr.write(`${JSON.stringify({ level: 'fatal', msg: 'relay failed to start', err: message })}\n`);
  process.exit(1);
});
