import { Kafka, logLevel } from 'kafkajs';
import type { LogEntry } from 'kafkajs';
import pg from 'pg';
import {
  createLogger,
  kafkaSecurityFailure,
  kafkaSecurityOptions,
  pgOptions,
  runWorkerProcess,
} from '@shopstream/shared';

import { loadConfig } from './config.js';
import { HOUR_MS, InboxRetention, checkInboxHorizon } from './inbox-retention.js';
import { ConsumerMetrics } from './metrics.js';
import { ProductEventConsumer } from './product-event-consumer.js';

/**
 * Composition root of a consumer process. Until its topics exist it runs, not ready; SIGTERM: finish
 * the batch, commit, leave the group (or stop waiting).
 */
async function main(): Promise<void> {
  const config = loadConfig(process.env);
  // The consumer names its group and topic in its own lines; a child field here would repeat them.
  const log = createLogger({ name: 'consumer', level: config.LOG_LEVEL });
  const pool = new pg.Pool(
    // One connection per partition applied at once, one for readiness and one to spare.
    pgOptions(config.DATABASE_URL, {
      max: config.CONSUMER_PARTITIONS_CONCURRENTLY + 2,
      applicationName: 'shopstream-consumer',
    }),
  );
  pool.on('error', (err) => log.warn({ err }, 'idle database connection failed'));
  const kafka = new Kafka({
    clientId: config.KAFKA_CLIENT_ID,
    brokers: config.KAFKA_BROKERS,
    ...kafkaSecurityOptions(config),
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log: { message, ...extra } }: LogEntry) => {
        if (level <= logLevel.WARN) log.warn(extra, `kafkajs: ${message}`);
      },
  });
  const metrics = new ConsumerMetrics();
  const consumer = new ProductEventConsumer(
    kafka,
    pool,
    {
      groupId: config.CONSUMER_GROUP_ID,
      topic: config.CONSUMER_TOPIC,
      dlqTopic: config.CONSUMER_DLQ_TOPIC,
      startFrom: config.CONSUMER_START_FROM,
      retryBaseMs: config.CONSUMER_RETRY_BASE_MS,
      retryMaxMs: config.CONSUMER_RETRY_MAX_MS,
      blockedLogIntervalMs: config.CONSUMER_BLOCKED_LOG_INTERVAL_MS,
      lagIntervalMs: config.CONSUMER_LAG_INTERVAL_MS,
      partitionsConcurrently: config.CONSUMER_PARTITIONS_CONCURRENTLY,
      batchMax: config.CONSUMER_BATCH_MAX,
      topicWaitIntervalMs: config.CONSUMER_TOPIC_WAIT_INTERVAL_MS,
    },
    metrics,
    log,
    (err) => kafkaSecurityFailure(err, config, config.KAFKA_BROKERS) !== undefined,
  );
  // The inbox purge has a connection of its own: it never takes one from applying events.
  const retentionPool = new pg.Pool(
    pgOptions(config.DATABASE_URL, { max: 1, applicationName: 'shopstream-consumer-inbox-retention' }),
  );
  retentionPool.on('error', (err) => log.warn({ err }, 'idle database connection failed'));
  const inboxHorizonMs = config.CONSUMER_INBOX_RETENTION_HOURS * HOUR_MS;
  const retention = new InboxRetention(
    retentionPool,
    {
      groupId: config.CONSUMER_GROUP_ID,
      horizonMs: inboxHorizonMs,
      intervalMs: config.CONSUMER_INBOX_PURGE_INTERVAL_MS,
      batchSize: config.CONSUMER_INBOX_PURGE_BATCH,
    },
    metrics,
    log,
  );
  await runWorkerProcess({
    log,
    start: async () => {
      await consumer.start().catch((err: unknown) => {
        // Refused credentials or an untrusted certificate stop the process at once, even while it
        // waits for its topics (exit 1, the sentence below): kafkajs does not retry them, and
        // Kubernetes' CrashLoopBackOff is the bounded backoff until the Secret is fixed.
        const refused = kafkaSecurityFailure(err, config, config.KAFKA_BROKERS);
        throw refused ? new Error(refused.message, { cause: err }) : err;
      });
      await checkInboxHorizon(kafka, config.CONSUMER_TOPIC, config.CONSUMER_GROUP_ID, inboxHorizonMs, log);
      retention.start();
    },
    ops: {
      host: config.METRICS_HOST,
      port: config.METRICS_PORT,
      registry: metrics.registry,
      ready: async () => {
        await pool.query('select 1');
        return consumer.isRunning;
      },
    },
    stopMessage: 'shutting down: finishing the batch, committing, leaving the group',
    stop: async () => {
      await retention.stop();
      await consumer.stop();
      await retentionPool.end();
      await pool.end();
    },
  });
}

main().catch((err: unknown) => {
  process.stderr.write(
    `${JSON.stringify({ level: 'fatal', msg: 'consumer failed to start', err: String(err) })}\n`,
  );
  process.exit(1);
});
