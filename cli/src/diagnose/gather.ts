import pg from 'pg';
import { kafkaSecurityFailure, pgOptions } from '@shopstream/shared';
import type { KafkaSecurityConfig } from '@shopstream/shared';
import { cliKafka } from '../kafka-client.js';
import type { DiagnoseFacts, KafkaFacts, OutboxFacts, Unreachable } from './facts.js';
import { gatherKafkaFacts } from './kafka-facts.js';
import { gatherOutboxFacts } from './outbox-facts.js';
import { readPipeline } from '../pipeline/pipeline-status.js';
import type { KubeTarget } from '../pipeline/pipeline-status.js';

export interface GatherOptions {
  group: string;
  topic: string;
  startFrom: 'earliest' | 'latest';
  brokers: string[];
  databaseUrl: string;
  security?: KafkaSecurityConfig;
  /** The cluster holding the ProductPipeline; without one the pipeline is not read. */
  kube?: KubeTarget;
}

/**
 * Reads Kafka, PostgreSQL and (with a kubeconfig) the ProductPipeline once, side by side. An
 * unreachable system is a fact, not a crash: "Kafka is down" is exactly the kind of answer
 * diagnose exists to give.
 */
export async function gatherFacts(options: GatherOptions): Promise<DiagnoseFacts> {
  const [kafka, outbox, pipeline] = await Promise.all([
    readKafka(options),
    readOutbox(options),
    options.kube ? readPipeline(options.kube, options.group, options.topic) : undefined,
  ]);
  return {
    group: options.group,
    topic: options.topic,
    startFrom: options.startFrom,
    brokers: options.brokers,
    kafka,
    outbox,
    ...(pipeline ? { pipeline, now: new Date().toISOString() } : {}),
  };
}

async function readKafka(options: GatherOptions): Promise<KafkaFacts | Unreachable> {
  const security = options.security ?? {};
  const admin = cliKafka({ ...security, KAFKA_BROKERS: options.brokers }).admin();
  try {
    await admin.connect();
    return await gatherKafkaFacts(admin, options.group, options.topic, options.startFrom);
  } catch (err) {
    const refused = kafkaSecurityFailure(err, security, options.brokers);
    return { reachable: false, error: refused?.message ?? (err as Error).message };
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

async function readOutbox(options: GatherOptions): Promise<OutboxFacts | Unreachable> {
  const pool = new pg.Pool(
    pgOptions(options.databaseUrl, { max: 3, applicationName: 'shopstream-cli', statementTimeoutMs: 10_000 }),
  );
  pool.on('error', () => undefined); // an idle client's error surfaces on the next query
  try {
    return await gatherOutboxFacts(pool, options.topic);
  } catch (err) {
    const e = err as Error & { code?: string };
    return { reachable: false, error: e.message || e.code || String(err) };
  } finally {
    await pool.end().catch(() => undefined);
  }
}
