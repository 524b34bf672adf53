import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import type { IHeaders } from 'kafkajs';
import pg from 'pg';
import { buildProductEvent, migrate, newId } from '@shopstream/shared';
import type { NewOutboxEvent, ProductEventType } from '@shopstream/shared';
import {
  consumerGroupsCommitted,
  createTestDatabase,
  fixtureProducer,
  freePort,
  infraEnv,
  productSnapshot,
  randomGroup,
  randomTopic,
  startService,
  waitFor,
} from '../../harness/index.js';
import type { ReadRecord, ServiceProcess, TestDatabase } from '../../harness/index.js';

export interface ConsumerProcess extends ServiceProcess {
  metricsPort: number;
  metrics(): Promise<string>;
}

/** One JSON line of a consumer's log. */
export interface LogLine {
  msg: string;
  level: string | number;
  [field: string]: unknown;
}

/** The consumer's JSON log lines whose `msg` is `msg` (or matches it), oldest first. */
export function logLines(consumer: ConsumerProcess, msg: string | RegExp): LogLine[] {
  return consumer
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine)
    .filter((l) => (typeof msg === 'string' ? l.msg === msg : msg.test(l.msg)));
}

export interface ConsumerFixture {
  db: TestDatabase;
  sql: pg.Pool;
  topic: string;
  dlq: string;
  group: string;
  brokers: string;
  kafka: Kafka;
  /** Produces events as the relay would (key, CloudEvents headers, JSON data). */
  produce(events: NewOutboxEvent[]): Promise<void>;
  produceRaw(messages: { key: string; value: string; headers: IHeaders }[]): Promise<void>;
  /** A consumer process, returned as soon as it runs (ready or not). */
  launchConsumer(env?: Record<string, string>): Promise<ConsumerProcess>;
  /** A consumer process, returned once /readyz says ready. */
  startConsumer(env?: Record<string, string>): Promise<ConsumerProcess>;
  close(): Promise<void>;
}

/** Product events: `versions` events for each of `products` new products (created, then updated). */
export function productEvents(products: number, versions: number, topic: string): NewOutboxEvent[] {
  const ids = Array.from({ length: products }, () => newId());
  const out: NewOutboxEvent[] = [];
  for (let v = 1; v <= versions; v++) {
    for (const id of ids) {
      const type: ProductEventType = v === 1 ? 'product.created' : 'product.updated';
      out.push(buildProductEvent(type, productSnapshot(id, v, { stock: v * 10 }), { shardCount: 64, topic }));
    }
  }
  return out;
}

/**
 * A fresh database, topic, DLQ topic and group name; real consumer processes on demand. The topics
 * named in `missing` are left for the test to create.
 */
export async function consumerFixture(
  options: { partitions?: number; brokers?: string; missing?: ('topic' | 'dlq')[] } = {},
): Promise<ConsumerFixture> {
  const db = await createTestDatabase('consumer');
  await migrate(db.url);
  const sql = new pg.Pool({ connectionString: db.url, max: 4 });
  // An idle client ended by the server (e.g. DROP DATABASE … WITH (FORCE) at teardown) emits
  // 'error' on the pool; unhandled, it fails whichever test is running. Queries still fail normally.
  sql.on('error', () => undefined);
  // The fixture's own clients (topics, producer) use these; startConsumer's env may point elsewhere.
  const brokers = options.brokers ?? infraEnv().kafkaBrokers;
  const topic = randomTopic('product.events');
  const dlq = `${topic}.dlq`;
  const group = randomGroup('product-consumer');
  const kafka = new Kafka({ clientId: 'fixture', brokers: [brokers], logLevel: logLevel.NOTHING });
  const missing = new Set(options.missing ?? []);
  const topics = [
    { topic, numPartitions: options.partitions ?? 3, replicationFactor: 1 },
    { topic: dlq, numPartitions: 1, replicationFactor: 1 },
  ].filter((t) => !missing.has(t.topic === topic ? 'topic' : 'dlq'));
  const admin = kafka.admin();
  await admin.connect();
  if (topics.length > 0) await admin.createTopics({ topics, waitForLeaders: true });
  await admin.disconnect();
  const producer = fixtureProducer(kafka);
  await producer.connect();
  const consumers: ConsumerProcess[] = [];

  const fixture: ConsumerFixture = {
    db,
    sql,
    topic,
    dlq,
    group,
    brokers,
    kafka,
    async produce(events) {
      await producer.send({
        topic,
        acks: -1,
        messages: events.map((e) => ({
          key: e.aggregateId,
          value: JSON.stringify(e.payload),
          headers: { ...e.headers },
        })),
      });
    },
    async produceRaw(messages) {
      await producer.send({ topic, acks: -1, messages });
    },
    async launchConsumer(env = {}) {
      const metricsPort = await freePort();
      const proc = startService('services/consumer/src/main.ts', {
        DATABASE_URL: db.url,
        KAFKA_BROKERS: brokers,
        CONSUMER_GROUP_ID: group,
        CONSUMER_TOPIC: topic,
        METRICS_PORT: String(metricsPort),
        METRICS_HOST: '127.0.0.1',
        CONSUMER_LAG_INTERVAL_MS: '500',
        LOG_LEVEL: 'info',
        ...env,
      });
      const consumer: ConsumerProcess = {
        ...proc,
        metricsPort,
        metrics: async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text(),
      };
      consumers.push(consumer);
      return consumer;
    },
    async startConsumer(env = {}) {
      const consumer = await fixture.launchConsumer(env);
      await waitFor(
        async () =>
          (await fetch(`http://127.0.0.1:${consumer.metricsPort}/readyz`).catch(() => undefined))?.ok,
        {
          description: 'the consumer to be ready',
          timeoutMs: 60_000,
        },
      ).catch((err: unknown) => {
        throw new Error(`consumer did not become ready; its output:\n${consumer.output()}`, { cause: err });
      });
      return consumer;
    },
    async close() {
      for (const c of consumers) c.child.kill('SIGKILL');
      await Promise.all(consumers.map((c) => c.exited));
      await producer.disconnect();
      await sql.end();
      await db.drop();
      const a = kafka.admin();
      await a.connect();
      await a.deleteTopics({ topics: [topic, dlq] }).catch(() => undefined);
      await a.deleteGroups([group]).catch(() => undefined);
      await a.disconnect();
    },
  };
  return fixture;
}

/** The sum of a metric's samples whose labels include `labels`, in Prometheus text (0 when none). */
export function metricValue(text: string, name: string, labels: Record<string, string>): number {
  const wanted = Object.entries(labels);
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (wanted.every(([k, v]) => line.includes(`${k}="${v}"`)))
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** The read models, for "unchanged" comparisons. */
export async function readModels(
  sql: pg.Pool,
): Promise<{ search: unknown[]; stats: unknown[]; inbox: number }> {
  const search = (
    await sql.query(
      'select product_id, seller_id, title, price, stock, source_version, deleted from product_search order by product_id',
    )
  ).rows;
  const stats = (
    await sql.query('select seller_id, product_count, total_stock from seller_stats order by seller_id')
  ).rows;
  const inbox = Number((await sql.query('select count(*) from processed_event')).rows[0].count);
  return { search, stats, inbox };
}

/** `shopstream_consumer_blocked` of the fixture's group as `consumer` exports it (undefined before it is exported). */
export async function blockedGauge(
  f: ConsumerFixture,
  consumer: ConsumerProcess,
): Promise<number | undefined> {
  const text = await consumer.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`shopstream_consumer_blocked{group="${f.group}"}`));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** Records on the fixture's DLQ topic: the sum of its partitions' log-end offsets, from Kafka. */
export async function dlqRecordCount(f: ConsumerFixture): Promise<number> {
  const admin = f.kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(f.dlq);
    return offsets.reduce((sum, o) => sum + Number(o.high) - Number(o.low), 0);
  } finally {
    await admin.disconnect();
  }
}

/** What the group had committed, and which events were in the inbox just after (in that order). */
export interface CommitSample {
  /** Partition → committed offset (the next offset to consume); absent where nothing was committed. */
  committed: Map<number, bigint>;
  applied: Set<string>;
  source: 'admin' | 'kafka-consumer-groups';
}

/** The event ids in the inbox. */
export async function appliedEventIds(f: ConsumerFixture): Promise<Set<string>> {
  const { rows } = await f.sql.query<{ event_id: string }>('select event_id from processed_event');
  return new Set(rows.map((r) => r.event_id));
}

/**
 * The group's committed offsets from Kafka (the admin API, or Kafka's own kafka-consumer-groups when
 * `source` says so), then the inbox: an offset committed past an event must find it applied.
 */
export async function sampleCommits(
  f: ConsumerFixture,
  source: CommitSample['source'] = 'admin',
): Promise<CommitSample> {
  const committed = new Map<number, bigint>();
  if (source === 'admin') {
    const admin = f.kafka.admin();
    await admin.connect();
    try {
      const [offsets] = await admin.fetchOffsets({ groupId: f.group, topics: [f.topic] });
      for (const p of offsets?.partitions ?? []) {
        if (Number(p.offset) >= 0) committed.set(p.partition, BigInt(p.offset));
      }
    } finally {
      await admin.disconnect();
    }
  } else {
    for (const [p, current] of Object.entries(await consumerGroupsCommitted(f.brokers, f.group, f.topic))) {
      if (/^\d+$/.test(current)) committed.set(Number(p), BigInt(current));
    }
  }
  return { committed, applied: await appliedEventIds(f), source };
}

/**
 * Checks each sample against the topic's records: per partition, the committed offset is at most
 * the offset of the first event the inbox did not hold at that moment.
 * @returns the violations (empty when the group never moved past an unapplied event) and how many
 *   (sample, partition) pairs had an unapplied event behind the committed offset's reach, i.e. were a real test.
 */
export function commitsPastUnapplied(
  samples: CommitSample[],
  records: ReadRecord[],
): { violations: string[]; checked: number } {
  const violations: string[] = [];
  let checked = 0;
  for (const [i, sample] of samples.entries()) {
    const firstUnapplied = new Map<number, bigint>();
    for (const r of records) {
      if (sample.applied.has(r.headers.ce_id ?? '')) continue;
      const offset = BigInt(r.offset);
      const known = firstUnapplied.get(r.partition);
      if (known === undefined || offset < known) firstUnapplied.set(r.partition, offset);
    }
    for (const [partition, first] of firstUnapplied) {
      checked++;
      const committed = sample.committed.get(partition);
      if (committed !== undefined && committed > first) {
        violations.push(
          `sample ${i} (${sample.source}): partition ${partition} committed ${committed} past unapplied offset ${first}`,
        );
      }
    }
  }
  return { violations, checked };
}

/**
 * Produces new products (created, then updated: 2 events each) every `intervalMs` until stopped —
 * events keep arriving while a test breaks something. Bounded by `maxTicks`.
 */
export function startLoad(
  f: ConsumerFixture,
  { productsPerTick = 3, intervalMs = 250, maxTicks = 400 } = {},
): { produced: NewOutboxEvent[]; stop(): Promise<NewOutboxEvent[]> } {
  const produced: NewOutboxEvent[] = [];
  let stopping = false;
  const running = (async () => {
    for (let tick = 0; tick < maxTicks && !stopping; tick++) {
      const events = productEvents(productsPerTick, 2, f.topic);
      await f.produce(events);
      produced.push(...events);
      await sleep(intervalMs);
    }
  })();
  return {
    produced,
    async stop() {
      stopping = true;
      await running;
      return produced;
    },
  };
}
