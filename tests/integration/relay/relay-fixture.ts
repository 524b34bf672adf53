import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { migrate } from '@shopstream/shared';
import {
  createTestDatabase,
  freePort,
  infraEnv,
  randomTopic,
  readTopic,
  startService,
  waitFor,
} from '../../harness/index.js';
import type { ReadRecord, ServiceProcess, TestDatabase } from '../../harness/index.js';

export interface RelayProcess extends ServiceProcess {
  id: string;
  metricsPort: number;
}

export interface RelayFixture {
  db: TestDatabase;
  sql: pg.Pool;
  topic: string;
  brokers: string;
  relays: RelayProcess[];
  startRelay(env?: Record<string, string>): Promise<RelayProcess>;
  statusCounts(): Promise<Record<string, number>>;
  waitAllPublished(total: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** A fresh migrated database, a fresh topic, and real relay processes started on demand. */
export async function relayFixture(
  options: { partitions?: number; topicConfig?: Record<string, string>; brokers?: string } = {},
): Promise<RelayFixture> {
  const db = await createTestDatabase('relay');
  await migrate(db.url);
  const sql = new pg.Pool({ connectionString: db.url, max: 4 });
  // An idle client ended by the server (e.g. DROP DATABASE … WITH (FORCE) at teardown) emits
  // 'error' on the pool; unhandled, it fails whichever test is running. Queries still fail normally.
  sql.on('error', () => undefined);
  const brokers = options.brokers ?? infraEnv().kafkaBrokers;
  const topic = randomTopic('product.events');
  const kafka = new Kafka({ clientId: 'fixture', brokers: [brokers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [
      {
        topic,
        numPartitions: options.partitions ?? 3,
        replicationFactor: 1,
        configEntries: Object.entries(options.topicConfig ?? {}).map(([name, value]) => ({ name, value })),
      },
    ],
    waitForLeaders: true,
  });
  await admin.disconnect();

  const relays: RelayProcess[] = [];
  const fixture: RelayFixture = {
    db,
    sql,
    topic,
    brokers,
    relays,
    async startRelay(env = {}) {
      const metricsPort = await freePort();
      const id = `relay-${relays.length + 1}`;
      const relay = startService('services/relay/src/main.ts', {
        DATABASE_URL: db.url,
        KAFKA_BROKERS: brokers,
        RELAY_ID: id,
        METRICS_PORT: String(metricsPort),
        METRICS_HOST: '127.0.0.1',
        LOG_LEVEL: 'info',
        RELAY_LEASE_MS: '4000',
        RELAY_HEARTBEAT_MS: '1000',
        RELAY_POLL_INTERVAL_MS: '200',
        // A send must fit in the lease with a heartbeat and the margin to spare (4000 > 1500 + 500 + 1000).
        KAFKA_REQUEST_TIMEOUT_MS: '1500',
        RELAY_FENCE_MARGIN_MS: '500',
        ...env,
      });
      const proc = { ...relay, id, metricsPort };
      relays.push(proc);
      await waitFor(
        async () => (await fetch(`http://127.0.0.1:${metricsPort}/readyz`).catch(() => undefined))?.ok,
        { description: `${id} to be ready`, timeoutMs: 60_000 },
      ).catch((err: unknown) => {
        throw new Error(`${id} did not become ready; its output:\n${relay.output()}`, { cause: err });
      });
      return proc;
    },
    async statusCounts() {
      const { rows } = await sql.query<{ status: string; n: number }>(
        'select status, count(*)::int as n from outbox_event group by status',
      );
      return Object.fromEntries(rows.map((r) => [r.status, r.n]));
    },
    async waitAllPublished(total, timeoutMs = 120_000) {
      await waitFor(async () => (await fixture.statusCounts()).PUBLISHED === total, {
        description: `${total} outbox events PUBLISHED`,
        timeoutMs,
      });
    },
    async close() {
      for (const r of relays) r.child.kill('SIGKILL');
      await Promise.all(relays.map((r) => r.exited));
      await sql.end();
      await db.drop();
      // The broker may be a private one a failed test left stopped: then there is no topic to delete.
      const a = kafka.admin();
      await a
        .connect()
        .then(() => a.deleteTopics({ topics: [topic] }))
        .catch(() => undefined);
      await a.disconnect();
    },
  };
  return fixture;
}

/** Per product, the ce_aggregateversion values in partition (offset) order. */
export function versionsByProduct(
  records: { key: string; partition: number; offset: string; headers: Record<string, string> }[],
): Map<string, number[]> {
  const sorted = [...records].sort(
    (a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)),
  );
  const out = new Map<string, number[]>();
  for (const r of sorted) {
    const list = out.get(r.key) ?? [];
    list.push(Number(r.headers.ce_aggregateversion));
    out.set(r.key, list);
  }
  return out;
}

/**
 * Where a product's records on the topic break DESIGN §1's order promise: first copies must come
 * in version order (1, 2, 3 …), and a repeated copy — at-least-once re-publication after a relay
 * lost its shard between Kafka's ack and its mark — must replay a contiguous run that reaches the
 * newest version published so far before anything newer appears. A stale send by a relay that
 * lost its lease (older versions after newer ones, run cut short) breaks the second rule.
 * @returns one sentence per violation; empty when the order is intact.
 */
export function orderViolations(byProduct: Map<string, number[]>): string[] {
  const violations: string[] = [];
  for (const [product, versions] of byProduct) {
    let high = 0;
    let replayNext: number | undefined;
    versions.forEach((v, i) => {
      if (replayNext !== undefined) {
        if (v !== replayNext) {
          violations.push(
            `${product}: copy of v${v} at #${i} breaks a replay that had reached v${replayNext - 1} of v${high}`,
          );
          replayNext = undefined;
          high = Math.max(high, v);
          return;
        }
        replayNext = v < high ? v + 1 : undefined;
        return;
      }
      if (v > high) {
        if (v !== high + 1)
          violations.push(`${product}: first copy of v${v} at #${i} came before v${high + 1}`);
        high = v;
        return;
      }
      replayNext = v < high ? v + 1 : undefined; // a repeat starts a replay run
    });
    if (replayNext !== undefined)
      violations.push(`${product}: a stale copy ends at v${replayNext - 1} after v${high} was published`);
  }
  return violations;
}

/** Every record of `topic`, however many (the high watermarks say how many to wait for). */
export async function readWholeTopic(brokers: string, topic: string): Promise<ReadRecord[]> {
  const kafka = new Kafka({ clientId: 'fixture-count', brokers: [brokers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  let total = 0;
  try {
    for (const p of await admin.fetchTopicOffsets(topic)) total += Number(p.high) - Number(p.low);
  } finally {
    await admin.disconnect();
  }
  const records = await readTopic(brokers, topic, total);
  if (records.length < total) throw new Error(`read ${records.length} of ${total} records of ${topic}`);
  return records;
}

/** The value of one sample of a relay's /metrics (0 when absent). */
export async function relayMetric(relay: RelayProcess, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${relay.metricsPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}
