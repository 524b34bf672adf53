/**
 * Consumer throughput: the applied events per second of ONE consumer process, per profile, all in
 * one run over the same records:
 * - "per event": one partition at a time, one inbox transaction per event — how the consumer worked
 *   before batches (CONSUMER_PARTITIONS_CONCURRENTLY=1, CONSUMER_BATCH_MAX=1);
 * - "batched": one partition at a time, a chunk of up to 500 events per transaction;
 * - "batched + concurrent": the defaults (3 partitions at once, chunks of 500).
 * Each profile runs on the local PostgreSQL (fsync off) and on a private durable one (fsync on),
 * each time with a fresh database and consumer group.
 * Usage: npm run bench:consumer -- [--products 2000] [--versions 5] [--partitions 3]
 * Prints a table with ratios to "per event"; writes bench/results/consumer-*.json.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import pg from 'pg';
import { buildProductEvent, migrate, newId } from '@shopstream/shared';
import {
  freePort,
  infraEnv,
  productSnapshot,
  randomTopic,
  repoRoot,
  startPrivatePostgres,
  startService,
  waitFor,
} from '../tests/harness/index.js';

const { values } = parseArgs({
  options: {
    products: { type: 'string', default: '2000' },
    versions: { type: 'string', default: '5' },
    partitions: { type: 'string', default: '3' },
  },
});
const products = Number(values.products);
const versions = Number(values.versions);
const partitions = Number(values.partitions);
const events = products * versions;
const brokers = infraEnv().kafkaBrokers;
const kafka = new Kafka({ clientId: 'bench-consumer', brokers: [brokers], logLevel: logLevel.NOTHING });

const profiles = [
  { name: 'per event', env: { CONSUMER_PARTITIONS_CONCURRENTLY: '1', CONSUMER_BATCH_MAX: '1' } },
  { name: 'batched', env: { CONSUMER_PARTITIONS_CONCURRENTLY: '1', CONSUMER_BATCH_MAX: '500' } },
  { name: 'batched + concurrent', env: {} },
] as const;

/** The topic, filled with `versions` events for each of `products` products (50 sellers), keyed by product. */
async function fillTopic(): Promise<{ topic: string; dlq: string }> {
  const topic = randomTopic('bench.consumer');
  const dlq = `${topic}.dlq`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [
      { topic, numPartitions: partitions },
      { topic: dlq, numPartitions: 1 },
    ],
    waitForLeaders: true,
  });
  await admin.disconnect();
  const sellers = Array.from({ length: 50 }, () => newId());
  const messages = [];
  const ids = Array.from({ length: products }, () => newId());
  for (let version = 1; version <= versions; version++) {
    for (const [i, id] of ids.entries()) {
      const snapshot = productSnapshot(id, version, {
        seller_id: sellers[i % sellers.length],
        stock: version,
      });
      const e = buildProductEvent(version === 1 ? 'product.created' : 'product.updated', snapshot, {
        shardCount: 64,
        topic,
      });
      messages.push({ key: id, value: JSON.stringify(e.payload), headers: { ...e.headers } });
    }
  }
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  for (let i = 0; i < messages.length; i += 1000) {
    await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 1000) });
  }
  await producer.disconnect();
  return { topic, dlq };
}

/** Applied events per second of one consumer process taking every record of `topic` into a new database. */
async function measure(
  serverUrl: string,
  topics: { topic: string; dlq: string },
  env: Record<string, string>,
): Promise<{ seconds: number; eventsPerSecond: number }> {
  const name = `bench_consumer_${newId().replace(/-/g, '').slice(0, 12)}`;
  const server = new pg.Client({ connectionString: serverUrl });
  await server.connect();
  await server.query(`create database ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  await migrate(url.toString());
  const sql = new pg.Pool({ connectionString: url.toString(), max: 1 });
  sql.on('error', () => undefined); // an idle client ended by the drop below
  const consumer = startService('services/consumer/src/main.ts', {
    DATABASE_URL: url.toString(),
    KAFKA_BROKERS: brokers,
    CONSUMER_GROUP_ID: `bench-${name}`,
    CONSUMER_TOPIC: topics.topic,
    CONSUMER_DLQ_TOPIC: topics.dlq,
    METRICS_PORT: String(await freePort()),
    METRICS_HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    ...env,
  });
  const applied = async (): Promise<number> =>
    (await sql.query<{ n: number }>('select count(*)::int as n from processed_event')).rows[0]!.n;
  try {
    // From the first applied event to the last: start-up and the group join are not throughput.
    await waitFor(async () => (await applied()) > 0, { description: 'the first event', timeoutMs: 120_000 });
    const started = performance.now();
    const before = await applied();
    await waitFor(async () => (await applied()) === events, {
      description: `${events} events applied`,
      timeoutMs: 1_800_000,
      intervalMs: 100,
    });
    const seconds = (performance.now() - started) / 1000;
    return { seconds, eventsPerSecond: (events - before) / seconds };
  } catch (err) {
    process.stderr.write(consumer.output());
    throw err;
  } finally {
    consumer.child.kill('SIGTERM');
    await consumer.exited;
    await sql.end();
    await server.query(`drop database if exists ${name} with (force)`);
    await server.end();
  }
}

const topics = await fillTopic();
const durable = await startPrivatePostgres({ durable: true });
const results: { profile: string; database: string; seconds: number; eventsPerSecond: number }[] = [];
try {
  for (const [database, url] of [
    ['fsync off', infraEnv().databaseUrl],
    ['durable', durable.url],
  ] as const) {
    for (const profile of profiles) {
      const result = await measure(url, topics, profile.env);
      console.log(`${database} / ${profile.name}: ${result.eventsPerSecond.toFixed(0)} events/s`);
      results.push({ profile: profile.name, database, ...result });
    }
  }
} finally {
  await durable.destroy();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topics.topic, topics.dlq] }).catch(() => undefined);
  await admin.disconnect();
}

const baseline = (database: string): number =>
  results.find((r) => r.database === database && r.profile === 'per event')!.eventsPerSecond;
console.log(
  `\nconsumer throughput, one process: ${events} events (${products} products × ${versions} versions), ${partitions} partitions, 2 cores`,
);
console.log('database   profile                  seconds  events/s  vs per event');
for (const r of results) {
  console.log(
    `${r.database.padEnd(10)} ${r.profile.padEnd(22)} ${r.seconds.toFixed(1).padStart(9)} ${r.eventsPerSecond.toFixed(0).padStart(9)} ${(r.eventsPerSecond / baseline(r.database)).toFixed(2).padStart(13)}`,
  );
}
const when = new Date().toISOString();
const dir = join(repoRoot, 'bench', 'results');
await mkdir(dir, { recursive: true });
const file = join(dir, `consumer-${when.replace(/[:.]/g, '-')}.json`);
await writeFile(
  file,
  `${JSON.stringify({ when, events, products, versions, partitions, results }, null, 2)}\n`,
);
console.log(`written: ${file}`);
