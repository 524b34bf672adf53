/**
 * DESIGN §9 "Kafka down for seconds or hours", by hand and with the relay's production defaults.
 * Usage: npm run drill:kafka-outage -- [--minutes 5] [--rate 5]
 * Starts a private Kafka broker, a fresh database, the API and two relays (default settings: 10
 * attempts, 60 s backoff cap, 30 s circuit cap), writes creates and updates through the API at
 * `rate` per second, stops Kafka for `minutes`, starts it again, and reports: writes during the
 * outage, DEAD rows and counted attempts (both must be 0), the relays' circuit gauges, how long the
 * backlog took to drain once Kafka was back, duplicates, and the per-product order on the topic.
 * Exits 1 if any promise was broken. Needs `npm run infra -- up` (PostgreSQL).
 */
import { parseArgs } from 'node:util';
import { sign } from 'hono/jwt';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { migrate } from '@shopstream/shared';
import {
  createTestDatabase,
  freePort,
  randomTopic,
  startPrivateKafka,
  startService,
  waitFor,
} from '../tests/harness/index.js';
import type { ServiceProcess } from '../tests/harness/index.js';
import {
  orderViolations,
  readWholeTopic,
  relayMetric,
  versionsByProduct,
} from '../tests/integration/relay/relay-fixture.js';

const { values } = parseArgs({
  options: { minutes: { type: 'string', default: '5' }, rate: { type: 'string', default: '5' } },
});
const outageMs = Number(values.minutes) * 60_000;
const intervalMs = 1000 / Number(values.rate);
const secret = 'drill-secret-that-is-at-least-32-characters';
const seller = '3fa85f64-5717-4562-b3fc-2c963f66afa6';
const log = (line: string): void => void process.stdout.write(`[${new Date().toISOString()}] ${line}\n`);

const kafka = await startPrivateKafka();
const db = await createTestDatabase('drill');
await migrate(db.url);
const sql = new pg.Pool({ connectionString: db.url, max: 2 });
sql.on('error', () => undefined);
const topic = randomTopic('product.events');
const admin = new Kafka({ clientId: 'drill', brokers: [kafka.brokers], logLevel: logLevel.NOTHING }).admin();
await admin.connect();
await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
await admin.disconnect();

const processes: ServiceProcess[] = [];
const apiPort = await freePort();
const api = startService('services/api/src/main.ts', {
  DATABASE_URL: db.url,
  PORT: String(apiPort),
  HOST: '127.0.0.1',
  JWT_SECRET: secret,
  PRODUCT_EVENTS_TOPIC: topic,
  LOG_LEVEL: 'warn',
});
processes.push(api);
const relays: (ServiceProcess & { id: string; metricsPort: number })[] = [];
for (const id of ['drill-relay-1', 'drill-relay-2']) {
  const metricsPort = await freePort();
  const relay = startService('services/relay/src/main.ts', {
    DATABASE_URL: db.url,
    KAFKA_BROKERS: kafka.brokers,
    RELAY_ID: id,
    METRICS_PORT: String(metricsPort),
    METRICS_HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
  });
  processes.push(relay);
  relays.push({ ...relay, id, metricsPort });
}
const base = `http://127.0.0.1:${apiPort}`;
await waitFor(async () => (await fetch(`${base}/readyz`).catch(() => undefined))?.ok, {
  description: 'the API',
  timeoutMs: 60_000,
});
for (const r of relays) {
  await waitFor(
    async () => (await fetch(`http://127.0.0.1:${r.metricsPort}/readyz`).catch(() => undefined))?.ok,
    {
      description: r.id,
      timeoutMs: 60_000,
    },
  );
}
const token = await sign({ sub: seller, exp: Math.floor(Date.now() / 1000) + 86_400 }, secret, 'HS256');
const headers = { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` };

const versions = new Map<string, number>();
let failedWrites = 0;
async function write(i: number): Promise<void> {
  const existing = [...versions.keys()];
  const id = i % 3 === 0 || existing.length === 0 ? undefined : existing[i % existing.length]!;
  const res = id
    ? await fetch(`${base}/products/${id}`, {
        method: 'PATCH',
        headers: { ...headers, 'If-Match': `"${versions.get(id)}"` },
        body: JSON.stringify({ stock: i }),
      })
    : await fetch(`${base}/products`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ title: `Drill ${i}`, price: '9.99', stock: 1 }),
      });
  if (!res.ok) {
    failedWrites++;
    return;
  }
  const body = (await res.json()) as { id: string; version: number };
  versions.set(body.id, body.version);
}
const counts = async (): Promise<{ dead: number; attempted: number; pending: number; published: number }> => {
  const { rows } = await sql.query<{ dead: number; attempted: number; pending: number; published: number }>(
    `select count(*) filter (where status = 'DEAD')::int as dead, count(*) filter (where attempts > 0)::int as attempted,
            count(*) filter (where status = 'PENDING')::int as pending, count(*) filter (where status = 'PUBLISHED')::int as published
     from outbox_event`,
  );
  return rows[0]!;
};

let broken: boolean;
try {
  let i = 0;
  const writeFor = async (ms: number, during?: () => Promise<void>): Promise<number> => {
    const until = Date.now() + ms;
    let n = 0;
    let lastCheck = 0;
    while (Date.now() < until) {
      await write(i++);
      n++;
      if (during && Date.now() - lastCheck > 10_000) {
        lastCheck = Date.now();
        await during();
      }
      await new Promise((r) => setTimeout(r, intervalMs));
    }
    return n;
  };
  await writeFor(10_000);
  log(`before the outage: ${JSON.stringify(await counts())}`);
  await kafka.stop();
  log(`Kafka stopped for ${values.minutes} min`);
  const circuits = new Set<string>();
  let maxDead = 0;
  let maxAttempted = 0;
  const during = await writeFor(outageMs, async () => {
    const c = await counts();
    maxDead = Math.max(maxDead, c.dead);
    maxAttempted = Math.max(maxAttempted, c.attempted);
    for (const r of relays)
      if ((await relayMetric(r, 'shopstream_relay_circuit_open')) === 1) circuits.add(r.id);
    log(`outage: ${JSON.stringify(c)} circuits open: ${[...circuits].join(', ') || 'none'}`);
  });
  const atReturn = await counts();
  await kafka.start();
  const returned = Date.now();
  log(`Kafka back; ${atReturn.pending} PENDING`);
  const total = [...versions.values()].reduce((n, v) => n + v, 0);
  await waitFor(async () => (await counts()).published === total, {
    description: `${total} events published`,
    timeoutMs: 300_000,
    intervalMs: 250,
  });
  const drainMs = Date.now() - returned;
  const after = await counts();
  const records = await readWholeTopic(kafka.brokers, topic);
  const violations = orderViolations(versionsByProduct(records));
  const circuitsAfter = await Promise.all(relays.map((r) => relayMetric(r, 'shopstream_relay_circuit_open')));
  const summary = {
    outageMinutes: Number(values.minutes),
    writesDuringOutage: during,
    failedWrites,
    pendingAtReturn: atReturn.pending,
    deadDuringOutage: maxDead,
    attemptsCountedDuringOutage: maxAttempted,
    relaysWithCircuitOpen: circuits.size,
    drainMs,
    events: total,
    deadAfter: after.dead,
    records: records.length,
    duplicates: records.length - new Set(records.map((r) => r.headers.ce_id)).size,
    orderViolations: violations.length,
    circuitsOpenAfter: circuitsAfter.filter((v) => v === 1).length,
  };
  log(`summary ${JSON.stringify(summary)}`);
  broken =
    maxDead > 0 ||
    maxAttempted > 0 ||
    after.dead > 0 ||
    violations.length > 0 ||
    failedWrites > 0 ||
    circuits.size === 0;
} finally {
  for (const p of processes) p.child.kill('SIGTERM');
  await Promise.all(processes.map((p) => p.exited));
  await sql.end();
  await db.drop();
  await kafka.destroy();
}
process.exit(broken ? 1 : 0);
