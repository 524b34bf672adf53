/**
 * shopstream's relay next to Kafka Connect + Debezium's PostgreSQL connector + its outbox EventRouter,
 * in one run on this machine, for each PostgreSQL profile: fast (the shared infra server: fsync off,
 * synchronous_commit off) and durable (a private server: fsync on, synchronous_commit on).
 * Bulk: N outbox rows committed in one transaction, timed from the COMMIT's return until the topic's
 * end offsets hold all N. Trickle: one row per transaction at a fixed rate, commit → record received.
 * Ceilings: one kafkajs producer and Kafka's ProducerPerformance, no database.
 * Usage: npm run bench:debezium -- [--events 50000] [--partitions 3] [--profile fast|durable|both]
 *        [--trickle-rate 500] [--trickle-seconds 20] [--batch N (default: the relay's RELAY_BATCH_SIZE)]
 * Prints one table per profile; writes bench/results/debezium-*.json. Connect's jars come from
 * infra/lib/install-connect.sh (first run: Maven Central).
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isDeepStrictEqual, parseArgs, promisify } from 'node:util';
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import type { Admin, Message } from 'kafkajs';
import pg from 'pg';
import { buildProductEvent, migrate, newId } from '@shopstream/shared';
// The harness module by module, not its index: the index also loads the secured-Kafka and kube
// helpers, whose kafkajs named imports have broken a tsx run before (kafkajs is CommonJS).
import { createTestDatabase } from '../tests/harness/databases.js';
import type { TestDatabase } from '../tests/harness/databases.js';
import { infraEnv, repoRoot } from '../tests/harness/infra.js';
import { randomGroup, randomTopic } from '../tests/harness/names.js';
import { insertEvents, productSnapshot } from '../tests/harness/outbox-seed.js';
import { startPrivatePostgres } from '../tests/harness/private-postgres.js';
import { freePort, startService } from '../tests/harness/processes.js';
import type { ServiceProcess } from '../tests/harness/processes.js';
import { waitFor } from '../tests/harness/wait-for.js';
import { installConnect, startConnect } from './kafka-connect.js';

const run = promisify(execFile);

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '50000' },
    partitions: { type: 'string', default: '3' },
    profile: { type: 'string', default: 'both' },
    'trickle-rate': { type: 'string', default: '500' },
    'trickle-seconds': { type: 'string', default: '20' },
    // Unset: the relay's own default (RELAY_BATCH_SIZE).
    batch: { type: 'string' },
  },
});
const events = Number(values.events);
const partitions = Number(values.partitions);
const trickleRate = Number(values['trickle-rate']);
const trickleSeconds = Number(values['trickle-seconds']);
const batch = values.batch === undefined ? undefined : Number(values.batch);
const eventsPerProduct = 10;
if (!['fast', 'durable', 'both'].includes(values.profile))
  throw new Error('--profile is fast, durable or both');
if (events % eventsPerProduct !== 0) throw new Error(`--events must be a multiple of ${eventsPerProduct}`);
const profileNames =
  values.profile === 'both' ? (['fast', 'durable'] as const) : [values.profile as 'fast' | 'durable'];

const env = infraEnv();
const brokers = env.kafkaBrokers;
const kafka = new Kafka({ clientId: 'bench-debezium', brokers: [brokers], logLevel: logLevel.NOTHING });

type Built = ReturnType<typeof buildProductEvent>;
interface Bulk {
  seconds: number;
  eventsPerSecond: number;
  commitMs: number;
  meanValueBytes: number;
}
interface Trickle {
  sent: number;
  received: number;
  /** Records whose key, partition (kafkajs's murmur2 of the key) or JSON value differ from the event's. */
  mismatched: { key: number; partition: number; value: number };
  p50: number;
  p99: number;
  max: number;
}
interface RunResult {
  bulk?: Bulk;
  trickle?: Trickle;
  error?: string;
  notes?: Record<string, unknown>;
}

/** The seedOutbox shape (same products, 10 events each, interleaved), built in memory. */
function buildEvents(topic: string, n: number): Built[] {
  const products = Array.from({ length: n / eventsPerProduct }, () => newId());
  const rows: Built[] = [];
  for (let version = 1; version <= eventsPerProduct; version++) {
    for (const id of products) {
      rows.push(
        buildProductEvent(
          version === 1 ? 'product.created' : 'product.updated',
          productSnapshot(id, version),
          {
            shardCount: 64,
            topic,
          },
        ),
      );
    }
  }
  return rows;
}

const oneEvent = (topic: string): Built =>
  buildProductEvent('product.created', productSnapshot(newId(), 1), { shardCount: 64, topic });

async function withAdmin<T>(work: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.disconnect();
  }
}

async function withTopic<T>(prefix: string, work: (topic: string) => Promise<T>): Promise<T> {
  const topic = randomTopic(prefix);
  await withAdmin((admin) =>
    admin.createTopics({
      topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }],
      waitForLeaders: true,
    }),
  );
  try {
    return await work(topic);
  } finally {
    await withAdmin((admin) => admin.deleteTopics({ topics: [topic] })).catch(() => undefined);
  }
}

async function endOffsetSum(admin: Admin, topic: string): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((sum, p) => sum + Number(p.high), 0);
}

/** Resolves once the topic's end offsets sum to `total`; the same measure for every contender. */
async function waitForEndOffsets(topic: string, total: number, description: string): Promise<void> {
  await withAdmin((admin) =>
    waitFor(async () => (await endOffsetSum(admin, topic)) >= total, {
      description,
      timeoutMs: 1_800_000,
      intervalMs: 50,
    }),
  );
}

/**
 * Commits all rows in one transaction (inserted in chunks inside it), then times from the COMMIT's
 * return until the topic holds `already + rows` records.
 */
async function bulkCommit(
  url: string,
  topic: string,
  already: number,
  rows: Built[],
  insert: (client: pg.ClientBase, chunk: Built[]) => Promise<void>,
  description: string,
): Promise<Omit<Bulk, 'meanValueBytes'>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  let commitMs: number;
  let started: number;
  try {
    await client.query('begin');
    for (let i = 0; i < rows.length; i += 2000) await insert(client, rows.slice(i, i + 2000));
    const commitStarted = performance.now();
    await client.query('commit');
    started = performance.now();
    commitMs = started - commitStarted;
  } finally {
    await client.end();
  }
  await waitForEndOffsets(topic, already + rows.length, description);
  const seconds = (performance.now() - started) / 1000;
  return { seconds, eventsPerSecond: rows.length / seconds, commitMs };
}

const percentile = (sorted: number[], p: number): number =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

/**
 * Inserts one row per transaction at --trickle-rate for --trickle-seconds; a consumer (fresh group,
 * from latest, joined before the first row) records when each event id arrives. Both ends read
 * this process's monotonic clock.
 */
async function trickle(
  url: string,
  topic: string,
  idHeader: string,
  insertOne: (pool: pg.Pool, event: Built) => Promise<void>,
): Promise<Trickle> {
  const pool = new pg.Pool({ connectionString: url, max: 8 });
  const committedAt = new Map<string, number>();
  const sent = new Map<string, Built>();
  const mismatched = { key: 0, partition: 0, value: 0 };
  const partitioner = Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({
    partitionErrorCode: 0,
    partitionId,
    leader: 1,
    replicas: [1],
    isr: [1],
  }));
  const receivedAt = new Map<string, number>();
  const consumer = kafka.consumer({ groupId: randomGroup('bench-dbz-trickle'), maxWaitTimeInMs: 100 });
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: false });
    let joined = false;
    consumer.on(consumer.events.GROUP_JOIN, () => (joined = true));
    await consumer.run({
      eachBatch: async ({ batch: b }) => {
        const now = performance.now();
        for (const m of b.messages) {
          const id = m.headers?.[idHeader]?.toString();
          if (id && !receivedAt.has(id)) receivedAt.set(id, now);
          const e = id === undefined ? undefined : sent.get(id);
          if (!e) continue;
          if (m.key?.toString() !== e.aggregateId) mismatched.key++;
          const want = partitioner({
            topic,
            partitionMetadata,
            message: { key: e.aggregateId, value: null },
          });
          if (b.partition !== want) mismatched.partition++;
          if (
            !isDeepStrictEqual(
              JSON.parse(m.value?.toString() ?? 'null'),
              JSON.parse(JSON.stringify(e.payload)),
            )
          )
            mismatched.value++;
        }
      },
    });
    await waitFor(() => joined, { description: 'trickle consumer joined', timeoutMs: 60_000 });
    // "latest" is resolved at the first fetch after the join; give it that moment before row one.
    await sleep(1500);
    const total = Math.round(trickleRate * trickleSeconds);
    const started = performance.now();
    const inflight: Promise<void>[] = [];
    for (let i = 0; i < total; i++) {
      const due = started + (i * 1000) / trickleRate;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      const e = oneEvent(topic);
      sent.set(e.id, e);
      inflight.push(
        insertOne(pool, e).then(() => {
          committedAt.set(e.id, performance.now());
        }),
      );
    }
    await Promise.all(inflight);
    await waitFor(() => [...committedAt.keys()].every((id) => receivedAt.has(id)), {
      description: 'every trickle row received',
      timeoutMs: 30_000,
      intervalMs: 100,
    }).catch(() => undefined);
    const latencies = [...committedAt]
      .filter(([id]) => receivedAt.has(id))
      .map(([id, t]) => receivedAt.get(id)! - t)
      .sort((a, b) => a - b);
    return {
      sent: committedAt.size,
      received: latencies.length,
      mismatched,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      max: latencies.at(-1) ?? NaN,
    };
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await pool.end();
  }
}

// ---- PostgreSQL profiles ------------------------------------------------------------------------

interface Profile {
  name: 'fast' | 'durable';
  adminUrl: string;
  settings: Record<string, string>;
  close(): Promise<void>;
}

async function openProfile(name: 'fast' | 'durable'): Promise<Profile> {
  let adminUrl = env.databaseUrl;
  let close = async (): Promise<void> => undefined;
  if (name === 'durable') {
    const server = await startPrivatePostgres({ durable: true, logical: true });
    adminUrl = server.url;
    close = server.destroy;
  }
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  const settings: Record<string, string> = {};
  try {
    for (const setting of ['synchronous_commit', 'fsync', 'wal_level', 'full_page_writes']) {
      const { rows } = await client.query<Record<string, string>>(`show ${setting}`);
      settings[setting] = Object.values(rows[0]!)[0]!;
    }
    // Slots of an earlier bench run that died before its clean-up would keep their WAL for ever.
    await client.query(
      `select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name like 'bench_dbz_%' and not active`,
    );
  } finally {
    await client.end();
  }
  return { name, adminUrl, settings, close };
}

// ---- Debezium -----------------------------------------------------------------------------------

const DEBEZIUM_TABLE = `create table outbox (
  id uuid primary key,
  aggregatetype varchar(255) not null,
  aggregateid varchar(255) not null,
  type varchar(255) not null,
  payload jsonb
)`;

async function insertDebezium(client: Pick<pg.ClientBase, 'query'>, rows: Built[]): Promise<void> {
  await client.query(
    `insert into outbox (id, aggregatetype, aggregateid, type, payload)
     select * from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::jsonb[])`,
    [
      rows.map((e) => e.id),
      rows.map((e) => e.aggregateType),
      rows.map((e) => e.aggregateId),
      rows.map((e) => e.eventType),
      rows.map((e) => JSON.stringify(e.payload)),
    ],
  );
}

async function dropSlot(url: string, slot: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await waitFor(
      async () => {
        const { rows } = await client.query<{ active: boolean }>(
          'select active from pg_replication_slots where slot_name = $1',
          [slot],
        );
        if (rows.length === 0) return true;
        if (rows[0]!.active) return false;
        await client.query('select pg_drop_replication_slot($1)', [slot]);
        return true;
      },
      { description: `replication slot ${slot} released`, timeoutMs: 60_000, intervalMs: 250 },
    );
  } finally {
    await client.end();
  }
}

async function runDebezium(profile: Profile, withTrickle: boolean): Promise<RunResult> {
  const db = await createTestDatabase('bench_dbz', profile.adminUrl);
  const slot = `bench_dbz_${db.name.replace(/[^a-z0-9_]/g, '_')}`.slice(0, 63);
  const publication = `${slot}_pub`;
  const dbUrl = new URL(db.url);
  try {
    const setup = new pg.Client({ connectionString: db.url });
    await setup.connect();
    await setup.query(DEBEZIUM_TABLE);
    await setup.query(`create publication ${publication} for table outbox`);
    await setup.end();
    return await withTopic('bench.dbz', async (topic) => {
      const connectorName = 'bench-outbox';
      const connect = await startConnect({
        brokers,
        connectorName,
        connector: {
          'connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
          'database.hostname': dbUrl.hostname,
          'database.port': dbUrl.port,
          'database.user': decodeURIComponent(dbUrl.username),
          'database.password': decodeURIComponent(dbUrl.password),
          'database.dbname': db.name,
          'topic.prefix': 'bench',
          'plugin.name': 'pgoutput',
          'slot.name': slot,
          'slot.drop.on.stop': 'true',
          'publication.name': publication,
          'publication.autocreate.mode': 'disabled',
          'snapshot.mode': 'no_data',
          'table.include.list': 'public.outbox',
          'tombstones.on.delete': 'false',
          'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
          'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
          transforms: 'outbox',
          'transforms.outbox.type': 'io.debezium.transforms.outbox.EventRouter',
          'transforms.outbox.route.topic.replacement': topic,
          'transforms.outbox.table.field.event.key': 'aggregateid',
        },
      });
      try {
        const pool = new pg.Pool({ connectionString: db.url, max: 1 });
        try {
          await waitFor(
            async () => {
              const { rows } = await pool.query<{ active: boolean }>(
                'select active from pg_replication_slots where slot_name = $1',
                [slot],
              );
              return rows[0]?.active === true;
            },
            { description: `slot ${slot} streaming`, timeoutMs: 60_000, intervalMs: 100 },
          );
          // One row end to end first: the pipeline, the topic's metadata and the JIT are warm, as the relays' are.
          await insertDebezium(pool, [oneEvent(topic)]);
          await waitForEndOffsets(topic, 1, 'Debezium warm-up row');
        } finally {
          await pool.end();
        }
        const rows = buildEvents(topic, events);
        const bulk = await bulkCommit(
          db.url,
          topic,
          1,
          rows,
          insertDebezium,
          `${events} rows through Debezium`,
        );
        // Debezium sends the payload as PostgreSQL prints jsonb (", " and ": " separators), a little longer.
        const size = await meanValueBytes(
          db.url,
          'select avg(octet_length(payload::text))::float8 as n from outbox',
        );
        const trickleResult = withTrickle
          ? await trickle(db.url, topic, 'id', (p, e) => insertDebezium(p, [e]))
          : undefined;
        return {
          bulk: { ...bulk, meanValueBytes: size },
          trickle: trickleResult,
          notes: { producer: await connect.producerSettings() },
        };
      } finally {
        await connect.stop();
      }
    });
  } finally {
    await dropSlot(profile.adminUrl, slot).catch((e: unknown) => console.error(`slot ${slot}: ${String(e)}`));
    await db.drop();
  }
}

async function meanValueBytes(url: string, sql: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ n: number }>(sql)).rows[0]!.n;
  } finally {
    await client.end();
  }
}
const meanBytes = (texts: string[]): number =>
  texts.reduce((sum, t) => sum + Buffer.byteLength(t), 0) / Math.max(1, texts.length);

// ---- shopstream relay ---------------------------------------------------------------------------

async function runRelays(profile: Profile, relays: number, withTrickle: boolean): Promise<RunResult> {
  const db: TestDatabase = await createTestDatabase('bench_dbz_relay', profile.adminUrl);
  const procs: ServiceProcess[] = [];
  const pool = new pg.Pool({ connectionString: db.url, max: 2 });
  try {
    await migrate(db.url);
    return await withTopic('bench.dbz.relay', async (topic) => {
      for (let i = 0; i < relays; i++) {
        procs.push(
          // Compiled, as the relay's image runs it (npm run bench:debezium builds it first).
          startService('services/relay/dist/main.js', {
            DATABASE_URL: db.url,
            KAFKA_BROKERS: brokers,
            RELAY_ID: `bench-${i}`,
            ...(batch === undefined ? {} : { RELAY_BATCH_SIZE: String(batch) }),
            METRICS_PORT: String(await freePort()),
            METRICS_HOST: '127.0.0.1',
            LOG_LEVEL: 'warn',
          }),
        );
      }
      const crashed = (): string | undefined => {
        const dead = procs.find((p) => p.child.exitCode !== null);
        return dead && `relay exited (${dead.child.exitCode}):\n${dead.output().slice(-3000)}`;
      };
      // Idle and settled first: every relay holds its share of the shards before the rows arrive.
      const spread = await waitFor(
        async () => {
          const failure = crashed();
          if (failure) return { failure };
          const { rows } = await pool
            .query<{ n: number }>(
              `select count(distinct owner)::int as n from relay_shard where owner is not null and lease_until > now()`,
            )
            .catch(() => ({ rows: [{ n: 0 }] }));
          return rows[0]!.n === relays && { failure: undefined };
        },
        { description: `${relays} relay(s) owning shards`, timeoutMs: 90_000, intervalMs: 250 },
      ).catch((e: unknown) => ({
        failure: `${String(e)}\n${procs.map((p) => p.output().slice(-2000)).join('\n')}`,
      }));
      if (spread.failure) throw new Error(spread.failure);
      await insertEvents(pool, [oneEvent(topic)]);
      await waitForEndOffsets(topic, 1, 'relay warm-up event');
      const rows = buildEvents(topic, events);
      const bulk = await bulkCommit(
        db.url,
        topic,
        1,
        rows,
        (client, chunk) => insertEvents(client, chunk),
        `${events} events through ${relays} relay(s)`,
      );
      const size = meanBytes(rows.map((e) => JSON.stringify(e.payload)));
      const trickleResult = withTrickle
        ? await trickle(db.url, topic, 'ce_id', async (p, e) => {
            await insertEvents(p, [e]);
            // What the API does after each write's commit (RelayWakeup): wake the relays.
            await p.query(`select pg_notify('outbox_event', $1)`, [String(e.shard)]);
          })
        : undefined;
      const failure = crashed();
      if (failure) throw new Error(failure);
      return {
        bulk: { ...bulk, meanValueBytes: size },
        trickle: trickleResult,
        notes: { peakRssMb: await Promise.all(procs.map((p) => peakRssMb(p.child.pid))) },
      };
    });
  } finally {
    for (const p of procs) p.child.kill('SIGTERM');
    await Promise.all(procs.map((p) => p.exited));
    await pool.end();
    await db.drop();
  }
}

/** The process's peak resident set (VmHWM), in MB. */
async function peakRssMb(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
  return kb === undefined ? undefined : Math.round(Number(kb) / 1024);
}

// ---- ceilings -----------------------------------------------------------------------------------

async function kafkajsCeiling(): Promise<RunResult> {
  return withTopic('bench.dbz.raw', async (topic) => {
    const rows = buildEvents(topic, events);
    const messages: Message[] = rows.map((e) => ({
      key: e.aggregateId,
      value: JSON.stringify(e.payload),
      headers: { ...e.headers },
    }));
    const producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    try {
      const started = performance.now();
      // Batches as large as the relay's (its RELAY_BATCH_SIZE default is 1000).
      const size = batch ?? 1000;
      for (let i = 0; i < messages.length; i += size) {
        await producer.sendBatch({
          acks: -1,
          topicMessages: [{ topic, messages: messages.slice(i, i + size) }],
        });
      }
      const seconds = (performance.now() - started) / 1000;
      return {
        bulk: {
          seconds,
          eventsPerSecond: messages.length / seconds,
          commitMs: 0,
          meanValueBytes: meanBytes(messages.map((m) => m.value as string)),
        },
      };
    } finally {
      await producer.disconnect();
    }
  });
}

async function producerPerformance(recordSize: number): Promise<RunResult> {
  return withTopic('bench.dbz.perf', async (topic) => {
    const { stdout } = await run(
      'java',
      [
        '-Xmx512m',
        `-Dlog4j2.configurationFile=${env.kafkaLog4jConfig}`,
        '-cp',
        env.kafkaClasspath,
        'org.apache.kafka.tools.ProducerPerformance',
        '--topic',
        topic,
        '--num-records',
        String(events),
        '--record-size',
        String(recordSize),
        '--throughput',
        '-1',
        '--producer-props',
        `bootstrap.servers=${brokers}`,
        'acks=all',
        'enable.idempotence=true',
      ],
      { maxBuffer: 16 * 1024 * 1024 },
    );
    const last = stdout.trim().split('\n').at(-1) ?? '';
    const m = /(\d+) records sent, ([\d.]+) records\/sec/.exec(last);
    if (!m) throw new Error(`unexpected ProducerPerformance output: ${stdout.slice(-500)}`);
    const eventsPerSecond = Number(m[2]);
    return {
      bulk: {
        seconds: Number(m[1]) / eventsPerSecond,
        eventsPerSecond,
        commitMs: 0,
        meanValueBytes: recordSize,
      },
      notes: { summary: last },
    };
  });
}

// ---- report -------------------------------------------------------------------------------------

async function attempt(name: string, work: () => Promise<RunResult>): Promise<RunResult> {
  process.stderr.write(`[bench] ${name}…\n`);
  try {
    return await work();
  } catch (error) {
    const message =
      error instanceof Error
        ? `${error.message}${error.cause ? ` (${String(error.cause)})` : ''}`
        : String(error);
    console.error(`[bench] ${name} failed: ${message}`);
    return { error: message };
  }
}

interface ProfileReport {
  profile: string;
  settings: Record<string, string>;
  runs: Record<string, RunResult>;
  goals: { name: string; value: number; goal: string; met: boolean }[];
}

async function benchProfile(name: 'fast' | 'durable'): Promise<ProfileReport> {
  const profile = await openProfile(name);
  try {
    const runs: Record<string, RunResult> = {};
    runs.debezium = await attempt(`${name}: Debezium`, () => runDebezium(profile, true));
    runs.relay1 = await attempt(`${name}: shopstream 1 relay`, () => runRelays(profile, 1, true));
    runs.relay4 = await attempt(`${name}: shopstream 4 relays`, () => runRelays(profile, 4, false));
    runs.kafkajs = await attempt(`${name}: kafkajs producer`, kafkajsCeiling);
    const size = Math.round(runs.kafkajs.bulk?.meanValueBytes ?? 350);
    runs.producerPerformance = await attempt(`${name}: ProducerPerformance`, () => producerPerformance(size));
    const rate = (k: string): number => runs[k]?.bulk?.eventsPerSecond ?? NaN;
    const p99 = (k: string): number => runs[k]?.trickle?.p99 ?? NaN;
    const goal = (label: string, value: number, op: '>=' | '<=', target: number) => ({
      name: label,
      value,
      goal: `${op === '>=' ? '≥' : '≤'} ${target}`,
      met: op === '>=' ? value >= target : value <= target,
    });
    return {
      profile: name,
      settings: profile.settings,
      runs,
      goals: [
        goal('1 relay ÷ Debezium (events/s)', rate('relay1') / rate('debezium'), '>=', 2),
        goal('1 relay ÷ kafkajs producer (events/s)', rate('relay1') / rate('kafkajs'), '>=', 0.5),
        goal('4 relays ÷ 1 relay (events/s)', rate('relay4') / rate('relay1'), '>=', 1.5),
        goal('shopstream trickle p99 ÷ Debezium trickle p99', p99('relay1') / p99('debezium'), '<=', 0.25),
      ],
    };
  } finally {
    await profile.close();
  }
}

function printProfile(r: ProfileReport): void {
  const s = r.settings;
  console.log(
    `\nprofile ${r.profile}: synchronous_commit=${s.synchronous_commit} fsync=${s.fsync} wal_level=${s.wal_level} full_page_writes=${s.full_page_writes}`,
  );
  console.log(
    `${events} events committed in one transaction, ${partitions} partitions; trickle ${trickleRate} rows/s × ${trickleSeconds} s, one row per transaction`,
  );
  const labels: [string, string][] = [
    ['debezium', 'Debezium (Connect + EventRouter)'],
    ['relay1', 'shopstream 1 relay'],
    ['relay4', 'shopstream 4 relays'],
    ['kafkajs', 'kafkajs producer (no database)'],
    ['producerPerformance', 'ProducerPerformance (no database)'],
  ];
  const dbz = r.runs.debezium?.bulk?.eventsPerSecond ?? NaN;
  const num = (v: number | undefined, digits: number, width: number): string =>
    (v === undefined || Number.isNaN(v) ? '-' : v.toFixed(digits)).padStart(width);
  console.log(
    `${'run'.padEnd(34)} ${'seconds'.padStart(8)} ${'events/s'.padStart(9)} ${'vs Dbz'.padStart(7)} ${'trickle p50'.padStart(11)} ${'p99'.padStart(7)} ${'max ms'.padStart(7)} ${'recv'.padStart(11)}`,
  );
  for (const [key, label] of labels) {
    const run = r.runs[key];
    if (!run || run.error) {
      console.log(`${label.padEnd(34)} failed: ${(run?.error ?? 'not run').split('\n')[0]!.slice(0, 120)}`);
      continue;
    }
    const b = run.bulk;
    const t = run.trickle;
    console.log(
      `${label.padEnd(34)} ${num(b?.seconds, 2, 8)} ${num(b?.eventsPerSecond, 0, 9)} ${num(b ? b.eventsPerSecond / dbz : undefined, 2, 7)} ${num(t?.p50, 0, 11)} ${num(t?.p99, 0, 7)} ${num(t?.max, 0, 7)} ${(t ? `${t.received}/${t.sent}` : '').padStart(11)}`,
    );
  }
  const producer = (r.runs.debezium?.notes?.producer ?? {}) as Record<string, string>;
  console.log(
    `Connect task producer: ${[
      'acks',
      'enable.idempotence',
      'max.in.flight.requests.per.connection',
      'linger.ms',
      'batch.size',
      'compression.type',
    ]
      .map((k) => `${k}=${producer[k] ?? '?'}`)
      .join(' ')}`,
  );
  const rss = r.runs.relay1?.notes?.peakRssMb as (number | undefined)[] | undefined;
  if (rss) console.log(`1 relay peak RSS (VmHWM): ${rss.join(', ')} MB (goal ≤ 150)`);
  console.log('goals:');
  for (const g of r.goals) {
    console.log(
      `  ${g.name.padEnd(48)} ${num(g.value, 2, 6)}  (goal ${g.goal})  ${Number.isNaN(g.value) ? 'n/a' : g.met ? 'met' : 'missed'}`,
    );
  }
}

installConnect();
const reports: ProfileReport[] = [];
for (const name of profileNames) reports.push(await benchProfile(name));
for (const r of reports) printProfile(r);
const when = new Date().toISOString();
const dir = join(repoRoot, 'bench', 'results');
await mkdir(dir, { recursive: true });
const file = join(dir, `debezium-${when.replace(/[:.]/g, '-')}.json`);
await writeFile(
  file,
  `${JSON.stringify({ when, events, partitions, batch, trickleRate, trickleSeconds, kafka: env.versions.kafka, profiles: reports }, null, 2)}\n`,
);
console.log(`written: ${file}`);
