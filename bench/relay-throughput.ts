/**
 * Outbox relay throughput: pre-fill N pending events (default 100,000), run 1 and then 4 relay
 * processes, and time until every event is PUBLISHED; next to the raw kafkajs producer ceiling for
 * the same messages (same producer settings, no database) measured in the same run.
 * Usage: npm run bench:relay -- [--events 100000] [--batch 200] [--partitions 3] [--compression none|gzip]
 *   [--cpu-prof]   (a V8 CPU profile of the 1-relay run into bench/results/profiles, summarised at the end)
 * Prints a table; writes bench/results/relay-*.json. Needs `npm run infra -- up`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import pg from 'pg';
import { migrate } from '@shopstream/shared';
import {
  createTestDatabase,
  freePort,
  infraEnv,
  randomTopic,
  repoRoot,
  seedOutbox,
  startService,
  waitFor,
} from '../tests/harness/index.js';
import type { ServiceProcess } from '../tests/harness/index.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '100000' },
    batch: { type: 'string', default: '200' },
    partitions: { type: 'string', default: '3' },
    compression: { type: 'string', default: 'none' },
    'cpu-prof': { type: 'boolean', default: false },
  },
});
const profileDir = join(repoRoot, 'bench', 'results', 'profiles');
const events = Number(values.events);
const batch = Number(values.batch);
const partitions = Number(values.partitions);
const eventsPerProduct = 10;
const brokers = infraEnv().kafkaBrokers;
const kafka = new Kafka({ clientId: 'bench', brokers: [brokers], logLevel: logLevel.NOTHING });

async function withTopic<T>(work: (topic: string) => Promise<T>): Promise<T> {
  const topic = randomTopic('bench.relay');
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }],
    waitForLeaders: true,
  });
  try {
    return await work(topic);
  } finally {
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  }
}

/** Seconds for `relays` relay processes to publish `events` pre-filled events. */
async function runRelays(
  relays: number,
  profile = false,
): Promise<{ seconds: number; eventsPerSecond: number }> {
  const db = await createTestDatabase('bench_relay');
  const sql = new pg.Pool({ connectionString: db.url, max: 2 });
  const procs: ServiceProcess[] = [];
  try {
    await migrate(db.url);
    return await withTopic(async (topic) => {
      await seedOutbox(sql, { topic, products: events / eventsPerProduct, eventsPerProduct });
      const started = performance.now();
      for (let i = 0; i < relays; i++) {
        procs.push(
          startService('services/relay/src/main.ts', {
            DATABASE_URL: db.url,
            KAFKA_BROKERS: brokers,
            RELAY_ID: `bench-${i}`,
            RELAY_BATCH_SIZE: String(batch),
            RELAY_COMPRESSION: values.compression,
            ...(profile ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profileDir}` } : {}),
            METRICS_PORT: String(await freePort()),
            METRICS_HOST: '127.0.0.1',
            LOG_LEVEL: 'warn',
          }),
        );
      }
      await waitFor(
        async () => {
          const { rows } = await sql.query<{ n: number }>(
            `select count(*)::int as n from outbox_event_unpublished where status = 'PENDING'`,
          );
          return rows[0]!.n === 0;
        },
        {
          description: `${events} events published by ${relays} relay(s)`,
          timeoutMs: 1_800_000,
          intervalMs: 100,
        },
      );
      const seconds = (performance.now() - started) / 1000;
      return { seconds, eventsPerSecond: events / seconds };
    });
  } finally {
    for (const p of procs) p.child.kill('SIGTERM');
    await Promise.all(procs.map((p) => p.exited));
    await sql.end();
    await db.drop();
  }
}

/** The same messages straight from memory through the relay's producer settings: no database at all. */
async function rawProducerCeiling(): Promise<{ seconds: number; eventsPerSecond: number }> {
  const db = await createTestDatabase('bench_raw');
  const sql = new pg.Pool({ connectionString: db.url, max: 2 });
  try {
    await migrate(db.url);
    return await withTopic(async (topic) => {
      await seedOutbox(sql, { topic, products: events / eventsPerProduct, eventsPerProduct });
      const { rows } = await sql.query<{
        aggregate_id: string;
        payload: unknown;
        headers: Record<string, string>;
      }>('select aggregate_id, payload, headers from outbox_event order by seq');
      const messages = rows.map((r) => ({
        key: r.aggregate_id,
        value: JSON.stringify(r.payload),
        headers: r.headers,
      }));
      const producer = kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      await producer.connect();
      const started = performance.now();
      for (let i = 0; i < messages.length; i += batch) {
        await producer.sendBatch({
          acks: -1,
          topicMessages: [{ topic, messages: messages.slice(i, i + batch) }],
        });
      }
      const seconds = (performance.now() - started) / 1000;
      await producer.disconnect();
      return { seconds, eventsPerSecond: messages.length / seconds };
    });
  } finally {
    await sql.end();
    await db.drop();
  }
}

const one = await runRelays(1, values['cpu-prof']);
const four = await runRelays(4);
const raw = await rawProducerCeiling();
const report = {
  when: new Date().toISOString(),
  events,
  batch,
  partitions,
  oneRelay: one,
  fourRelays: four,
  rawProducer: raw,
  ratios: {
    oneRelayToRaw: one.eventsPerSecond / raw.eventsPerSecond,
    fourRelaysToRaw: four.eventsPerSecond / raw.eventsPerSecond,
  },
};
const row = (name: string, r: { seconds: number; eventsPerSecond: number }) =>
  console.log(
    `${name.padEnd(34)} ${r.seconds.toFixed(1).padStart(8)} ${r.eventsPerSecond.toFixed(0).padStart(10)} ${(r.eventsPerSecond / raw.eventsPerSecond).toFixed(2).padStart(8)}`,
  );
console.log(
  `\nrelay throughput: ${events} events, batch ${batch}, ${partitions} partitions, compression ${values.compression}, loopback, 2 cores`,
);
console.log('run                                 seconds   events/s  vs raw');
row('1 relay', one);
row('4 relays', four);
row('raw kafkajs producer (no database)', raw);
const dir = join(repoRoot, 'bench', 'results');
await mkdir(dir, { recursive: true });
const file = join(dir, `relay-${report.when.replace(/[:.]/g, '-')}.json`);
await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
console.log(`written: ${file}`);
if (values['cpu-prof']) {
  const { summariseNewestProfile } = await import('./cpu-profile.js');
  console.log(await summariseNewestProfile(profileDir));
}
