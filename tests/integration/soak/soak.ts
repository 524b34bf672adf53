/**
 * The soak of the whole pipeline (issue 14 item 7), shared by `npm run soak` (bench/soak.ts) and the
 * short profile in soak.int.test.ts. On a private PostgreSQL server, a private Kafka broker, a fresh
 * topic, DLQ topic and consumer group it runs the API, 3 relays and 2 consumers as real processes,
 * drives creates, updates and deletes through the API, and meanwhile injects faults: SIGKILLs of
 * relays and consumers at random (each restarted), Kafka stopped once for longer than the relays'
 * whole retry schedule, PostgreSQL restarted once, `product_search` renamed for 10 s once. After the
 * load it waits for the pipeline to drain, stops the services and checks DESIGN §9's promises.
 *
 * Timeline: Kafka stops at 10 % of the load, PostgreSQL restarts at 35 %, the table is renamed at
 * 55 %; before the second and third fault the harness waits for the pipeline to catch up (the load
 * goes on), so each fault meets a flowing pipeline and its effect is seen (circuits open, 503
 * answers, consumers blocked). Random kills (relays and consumers in turn) happen only between those
 * faults — a process starting during an outage is another test — and at least one of each happens.
 * The load lasts `minutes` or until the faults are done, whichever is later. The seed fixes every
 * random stream; the interleaving still follows the machine's timing.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { sign } from 'hono/jwt';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { migrate } from '@shopstream/shared';
import {
  freePort,
  randomGroup,
  randomTopic,
  seededRandom,
  startPrivateKafka,
  startPrivatePostgres,
  startService,
  waitFor,
} from '../../harness/index.js';
import type { PrivateKafka, PrivatePostgres, ReadRecord, ServiceProcess } from '../../harness/index.js';
import { orderViolations, readWholeTopic, versionsByProduct } from '../relay/relay-fixture.js';

export interface SoakOptions {
  /** Length of the load phase; the faults are placed at fractions of it. */
  minutes: number;
  /** Writes started per second (creates, updates and deletes). */
  rate: number;
  /** Seeds every random choice of the harness (operations, products, kill targets and times). */
  seed: number;
  /** How long Kafka stays down (default: a tenth of the load, 20–60 s). */
  kafkaOutageMs?: number;
  /** How long PostgreSQL stays down between stop and start (default 5 s). */
  postgresDownMs?: number;
  /** How long `product_search` is renamed away (default 10 s). */
  renameMs?: number;
  /** Mean time between random SIGKILLs (default: a tenth of the load, 10–30 s). */
  killEveryMs?: number;
  /** Deadline for the pipeline to drain after the load (default 10 min). */
  drainTimeoutMs?: number;
  /** Most writes in flight at once (the client backs off beyond it). */
  maxInFlight?: number;
  log?: (line: string) => void;
  /** On SIGINT/SIGTERM, kill the services and remove the private servers, then exit 130 (for the script). */
  cleanUpOnSignal?: boolean;
  /**
   * Runs after the services are stopped and before the checks read anything. Only for proving the
   * checks can fail (corrupt a row in a scratch run and watch the soak report it); never in a real run.
   */
  beforeChecks?: (ctx: { sql: pg.Pool; group: string; topic: string; brokers: string }) => Promise<void>;
}

export interface SoakChecks {
  /** Acknowledged writes without their outbox event + outbox events no acknowledged write explains. */
  outboxMismatch: number;
  /** Outbox events whose id is not on the topic (read back from Kafka). */
  lostInKafka: number;
  /** Outbox events not in the consumer group's inbox. */
  notApplied: number;
  /** Sellers whose seller_stats differ from the live rows of product_search: what a double apply of an event's delta breaks. */
  appliedTwice: number;
  /** Per-product order breaks on the topic (first copies out of version order, stale copies after newer ones). */
  orderViolations: number;
  /** DEAD outbox rows. */
  dead: number;
  /** Records on the dead-letter topic. */
  dlq: number;
  /** product rows whose product_search row is missing or differs (version included), orphan product_search rows, sellers whose seller_stats differ from the product table. */
  readModelMismatch: number;
  /** API answers 5xx other than 503, or 503 without Retry-After (DESIGN §9: never 500). */
  apiErrors: number;
  /** Services that exited without being killed by the soak (each was restarted). */
  crashes: number;
}

export interface SoakResult {
  ok: boolean;
  seed: number;
  minutes: number;
  rate: number;
  writes: {
    acknowledged: number;
    creates: number;
    updates: number;
    deletes: number;
    /** Answers that acknowledged nothing (503, connection errors) and were retried. */
    retried: number;
    /** Writes whose answer was lost but whose effect a later read confirmed. */
    confirmedByRead: number;
  };
  events: { outbox: number; onTopic: number; topicDuplicates: number; consumerDuplicates: number };
  faults: {
    relayKills: number;
    consumerKills: number;
    kafkaStops: number;
    postgresRestarts: number;
    tableRenames: number;
  };
  /** Proof that each fault bit: relays whose circuit opened while Kafka was down, consumers blocked while the table was away, 503 answers. */
  effects: { circuitsOpened: number; consumersBlocked: number; unavailableAnswers: number };
  drained: boolean;
  drainMs: number;
  checks: SoakChecks;
  /** Up to a few examples per failed check, and harness failures. */
  details: string[];
  /** Set when the harness itself failed (the checks are then not to be trusted). */
  harnessError?: string;
}

/** One line: seed, writes, events, faults by kind, duplicates, and every check's number. */
export function formatSummary(r: SoakResult): string {
  const c = r.checks;
  const parts = [
    `soak ${r.ok ? 'PASS' : 'FAIL'}`,
    `seed=${r.seed}`,
    `minutes=${r.minutes}`,
    `rate=${r.rate}`,
    `writes=${r.writes.acknowledged} (create=${r.writes.creates} update=${r.writes.updates} delete=${r.writes.deletes} retried=${r.writes.retried} confirmed_by_read=${r.writes.confirmedByRead})`,
    `events=${r.events.outbox} on_topic=${r.events.onTopic}`,
    `faults: relay_kill=${r.faults.relayKills} consumer_kill=${r.faults.consumerKills} kafka_stop=${r.faults.kafkaStops} pg_restart=${r.faults.postgresRestarts} table_rename=${r.faults.tableRenames}`,
    `effects: circuits_opened=${r.effects.circuitsOpened} consumers_blocked=${r.effects.consumersBlocked} api_503=${r.effects.unavailableAnswers}`,
    `duplicates: on_topic=${r.events.topicDuplicates} delivered_to_consumers>=${r.events.consumerDuplicates}`,
    `drain=${r.drained ? `${Math.round(r.drainMs / 1000)}s` : 'TIMED-OUT'}`,
    `checks: outbox_mismatch=${c.outboxMismatch} lost_in_kafka=${c.lostInKafka} not_applied=${c.notApplied} applied_twice=${c.appliedTwice} order_violations=${c.orderViolations} dead=${c.dead} dlq=${c.dlq} read_model_mismatch=${c.readModelMismatch} api_errors=${c.apiErrors} crashes=${c.crashes}`,
  ];
  if (r.harnessError) parts.push(`harness_error=${JSON.stringify(r.harnessError)}`);
  return parts.join(' | ');
}

const SELLERS = [
  '0190f3a0-0000-7000-8000-000000000001',
  '0190f3a0-0000-7000-8000-000000000002',
  '0190f3a0-0000-7000-8000-000000000003',
  '0190f3a0-0000-7000-8000-000000000004',
];
const SECRET = 'soak-secret-that-is-at-least-32-characters';
const PARTITIONS = 3;

/** The relays' retry schedule: short, so that the Kafka outage is far longer than all of it. */
const RELAY_RETRY = {
  RELAY_MAX_ATTEMPTS: 4,
  RELAY_BACKOFF_BASE_MS: 100,
  RELAY_BACKOFF_MAX_MS: 800,
  RELAY_CIRCUIT_BASE_MS: 200,
  RELAY_CIRCUIT_MAX_MS: 2_000,
};
/** The longest a record's whole retry schedule can take before DEAD (every backoff at its cap). */
export const relayRetryScheduleMs = (): number => {
  let total = 0;
  for (let a = 1; a <= RELAY_RETRY.RELAY_MAX_ATTEMPTS; a++)
    total += Math.min(RELAY_RETRY.RELAY_BACKOFF_MAX_MS, RELAY_RETRY.RELAY_BACKOFF_BASE_MS * 2 ** (a - 1));
  return total + RELAY_RETRY.RELAY_CIRCUIT_MAX_MS;
};

type Role = 'relay' | 'consumer';

/** A service slot: the current process, restarted after every exit until the soak shuts it down. */
interface Slot {
  role: Role;
  name: string;
  generation: number;
  proc?: ServiceProcess & { metricsPort: number };
  killedByUs: boolean;
  /** The consumer's last scraped duplicate count, per generation. */
  duplicates: number[];
}

interface LocalProduct {
  id: string;
  seller: string;
  version: number;
  busy: boolean;
}

class HttpAnswer {
  constructor(
    readonly status: number,
    readonly retryAfter: string | null,
    readonly body: unknown,
  ) {}
}

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const log = options.log ?? ((): void => undefined);
  // Separate streams, so the kill schedule does not shift with the number of writes (timing still varies).
  const random = seededRandom(options.seed);
  const faultRandom = seededRandom(options.seed ^ 0x9e3779b9);
  const loadMs = Math.round(options.minutes * 60_000);
  const kafkaOutageMs = options.kafkaOutageMs ?? Math.min(60_000, Math.max(20_000, loadMs / 10));
  const postgresDownMs = options.postgresDownMs ?? 5_000;
  const renameMs = options.renameMs ?? 10_000;
  const killEveryMs = options.killEveryMs ?? Math.min(30_000, Math.max(10_000, loadMs / 10));
  const drainTimeoutMs = options.drainTimeoutMs ?? 600_000;
  const maxInFlight = options.maxInFlight ?? 64;

  const result: SoakResult = {
    ok: false,
    seed: options.seed,
    minutes: options.minutes,
    rate: options.rate,
    writes: { acknowledged: 0, creates: 0, updates: 0, deletes: 0, retried: 0, confirmedByRead: 0 },
    events: { outbox: 0, onTopic: 0, topicDuplicates: 0, consumerDuplicates: 0 },
    faults: { relayKills: 0, consumerKills: 0, kafkaStops: 0, postgresRestarts: 0, tableRenames: 0 },
    effects: { circuitsOpened: 0, consumersBlocked: 0, unavailableAnswers: 0 },
    drained: false,
    drainMs: 0,
    checks: {
      outboxMismatch: 0,
      lostInKafka: 0,
      notApplied: 0,
      appliedTwice: 0,
      orderViolations: 0,
      dead: 0,
      dlq: 0,
      readModelMismatch: 0,
      apiErrors: 0,
      crashes: 0,
    },
    details: [],
  };
  const detail = (check: string, examples: string[]): void => {
    for (const e of examples.slice(0, 3)) result.details.push(`${check}: ${e}`);
  };
  if (kafkaOutageMs <= relayRetryScheduleMs())
    throw new Error(
      `the Kafka outage (${kafkaOutageMs} ms) must outlast the relays' retry schedule (${relayRetryScheduleMs()} ms)`,
    );

  let postgres: PrivatePostgres | undefined;
  let kafka: PrivateKafka | undefined;
  let sql: pg.Pool | undefined;
  let api: ServiceProcess | undefined;
  const slots: Slot[] = [];
  let shuttingDown = false;
  const background: Promise<unknown>[] = [];
  const onSignal = (): void => {
    shuttingDown = true;
    log('interrupted: killing the services and removing the private PostgreSQL and Kafka');
    for (const p of [api, ...slots.map((s) => s.proc)]) p?.child.kill('SIGKILL');
    void Promise.allSettled([kafka?.destroy(), postgres?.destroy()]).then(() => process.exit(130));
  };
  if (options.cleanUpOnSignal) {
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }

  try {
    // --- infrastructure: a private PostgreSQL server and Kafka broker, so both can be stopped ---
    [postgres, kafka] = await Promise.all([startPrivatePostgres(), startPrivateKafka()]);
    const admin0 = new pg.Client({ connectionString: postgres.url });
    await admin0.connect();
    await admin0.query('create database soak');
    await admin0.end();
    const dbUrl = postgres.url.replace(/\/postgres$/, '/soak');
    await migrate(dbUrl);
    sql = new pg.Pool({ connectionString: dbUrl, max: 3 });
    sql.on('error', () => undefined); // the PostgreSQL restart ends idle clients
    const brokers = kafka.brokers;
    const topic = randomTopic('soak.product.events');
    const dlq = `${topic}.dlq`;
    const group = randomGroup('soak-consumer');
    const kafkaAdmin = new Kafka({
      clientId: 'soak',
      brokers: [brokers],
      logLevel: logLevel.NOTHING,
    }).admin();
    await kafkaAdmin.connect();
    await kafkaAdmin.createTopics({
      topics: [
        { topic, numPartitions: PARTITIONS, replicationFactor: 1 },
        { topic: dlq, numPartitions: 1, replicationFactor: 1 },
      ],
      waitForLeaders: true,
    });
    // A fresh broker loads its group coordinator lazily; the consumers' start-up should not race it.
    await waitFor(
      async () => (await kafkaAdmin.fetchOffsets({ groupId: group, topics: [topic] })).length > 0,
      {
        description: `the group coordinator of ${group}`,
        timeoutMs: 60_000,
        intervalMs: 500,
      },
    );
    await kafkaAdmin.disconnect();
    log(`private PostgreSQL ${postgres.url}, private Kafka ${brokers}, topic ${topic}, group ${group}`);

    // --- services ---
    const apiPort = await freePort();
    const startApi = (): void => {
      const proc = startService('services/api/src/main.ts', {
        DATABASE_URL: dbUrl,
        PORT: String(apiPort),
        HOST: '127.0.0.1',
        JWT_SECRET: SECRET,
        PRODUCT_EVENTS_TOPIC: topic,
        LOG_LEVEL: 'warn',
      });
      api = proc;
      void proc.exited.then(async (code) => {
        if (shuttingDown) return;
        result.checks.crashes++;
        log(`CRASH: the API exited with ${code} on its own (restarting it)`);
        result.details.push(
          `crash: the API exited with ${code} on its own; last output: ${proc.output().slice(-2500).replace(/\s+/g, ' ')}`,
        );
        await sleep(1000);
        if (!shuttingDown) startApi();
      });
    };
    startApi();
    const base = `http://127.0.0.1:${apiPort}`;

    const envFor = (slot: Slot, metricsPort: number): [string, Record<string, string>] =>
      slot.role === 'relay'
        ? [
            'services/relay/src/main.ts',
            {
              DATABASE_URL: dbUrl,
              KAFKA_BROKERS: brokers,
              RELAY_ID: `${slot.name}-gen${slot.generation}`,
              METRICS_PORT: String(metricsPort),
              METRICS_HOST: '127.0.0.1',
              LOG_LEVEL: 'warn',
              // The relay fixture's lease settings: a killed relay's shards are taken over within seconds.
              RELAY_LEASE_MS: '4000',
              RELAY_HEARTBEAT_MS: '1000',
              RELAY_POLL_INTERVAL_MS: '200',
              KAFKA_REQUEST_TIMEOUT_MS: '1500',
              RELAY_FENCE_MARGIN_MS: '500',
              ...Object.fromEntries(Object.entries(RELAY_RETRY).map(([k, v]) => [k, String(v)])),
            },
          ]
        : [
            'services/consumer/src/main.ts',
            {
              DATABASE_URL: dbUrl,
              KAFKA_BROKERS: brokers,
              CONSUMER_GROUP_ID: group,
              CONSUMER_TOPIC: topic,
              CONSUMER_DLQ_TOPIC: dlq,
              CONSUMER_RETRY_MAX_MS: '2000',
              CONSUMER_BLOCKED_LOG_INTERVAL_MS: '5000',
              CONSUMER_LAG_INTERVAL_MS: '1000',
              METRICS_PORT: String(metricsPort),
              METRICS_HOST: '127.0.0.1',
              LOG_LEVEL: 'warn',
            },
          ];

    /** Waits for `/readyz` of whatever process currently runs (a slot may have restarted it meanwhile). */
    const ready = async (
      what: string,
      current: () => { port: number; proc: ServiceProcess },
    ): Promise<void> => {
      const probe = async (): Promise<boolean | undefined> => {
        const { port } = current();
        return (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.ok;
      };
      await waitFor(probe, { description: `${what} to be ready`, timeoutMs: 120_000 }).catch(
        (err: unknown) => {
          throw new Error(
            `${what} did not become ready; its output:\n${current().proc.output().slice(-4000)}`,
            {
              cause: err,
            },
          );
        },
      );
    };

    const launch = async (slot: Slot): Promise<void> => {
      slot.generation++;
      slot.killedByUs = false;
      const metricsPort = await freePort();
      if (shuttingDown) return;
      const [entry, env] = envFor(slot, metricsPort);
      const proc = { ...startService(entry, env), metricsPort };
      slot.proc = proc;
      slot.duplicates.push(0);
      void proc.exited.then(async (code) => {
        if (shuttingDown || slot.proc !== proc) return;
        if (!slot.killedByUs) {
          result.checks.crashes++;
          log(`CRASH: ${slot.name} gen ${slot.generation} exited with ${code} on its own (restarting it)`);
          result.details.push(
            `crash: ${slot.name} gen ${slot.generation} exited with ${code} on its own; last output: ${proc.output().slice(-2500).replace(/\s+/g, ' ')}`,
          );
        }
        await sleep(slot.killedByUs ? 500 + Math.floor(faultRandom() * 2500) : 1000);
        if (!shuttingDown && slot.proc === proc) await launch(slot);
      });
    };

    for (let i = 1; i <= 3; i++)
      slots.push({ role: 'relay', name: `relay-${i}`, generation: 0, killedByUs: false, duplicates: [] });
    for (let i = 1; i <= 2; i++)
      slots.push({
        role: 'consumer',
        name: `consumer-${i}`,
        generation: 0,
        killedByUs: false,
        duplicates: [],
      });
    for (const slot of slots) await launch(slot);
    await ready('the API', () => ({ port: apiPort, proc: api! }));
    for (const slot of slots)
      await ready(slot.name, () => ({ port: slot.proc!.metricsPort, proc: slot.proc! }));
    log('API, 3 relays and 2 consumers ready');

    // --- the client: writes through the API, counting only 2xx answers as acknowledged ---
    const tokens = new Map<string, string>();
    for (const s of SELLERS)
      tokens.set(s, await sign({ sub: s, exp: Math.floor(Date.now() / 1000) + 86_400 }, SECRET, 'HS256'));
    /** `${product id}:${version}` → event type, for every acknowledged write. */
    const acknowledged = new Map<string, string>();
    const live: LocalProduct[] = [];
    let apiErrors = 0;
    let harnessAnomalies = 0;

    const call = async (
      method: string,
      path: string,
      seller: string,
      body?: unknown,
      extra: Record<string, string> = {},
    ): Promise<HttpAnswer | undefined> => {
      try {
        const res = await fetch(`${base}${path}`, {
          method,
          headers: {
            Authorization: `Bearer ${tokens.get(seller)!}`,
            ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
            ...extra,
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(30_000),
        });
        const text = await res.text();
        const answer = new HttpAnswer(
          res.status,
          res.headers.get('retry-after'),
          text ? (JSON.parse(text) as unknown) : undefined,
        );
        if (answer.status === 503) result.effects.unavailableAnswers++;
        if (
          (answer.status >= 500 && answer.status !== 503) ||
          (answer.status === 503 && !answer.retryAfter)
        ) {
          apiErrors++;
          detail('api_errors', [
            `${method} ${path} answered ${answer.status} (Retry-After ${answer.retryAfter}): ${text.slice(0, 200)}`,
          ]);
        }
        return answer;
      } catch {
        return undefined; // no answer: nothing acknowledged
      }
    };
    /** Retries an answer that acknowledged nothing (503, no answer) until the deadline. */
    const untilAnswered = async (
      attempt: () => Promise<HttpAnswer | undefined>,
    ): Promise<{ answer: HttpAnswer; retried: boolean }> => {
      const deadline = Date.now() + 300_000;
      let retried = false;
      for (;;) {
        const answer = await attempt();
        if (answer && answer.status < 500) return { answer, retried };
        if (Date.now() > deadline)
          throw new Error(`a write got no answer but ${answer?.status ?? 'errors'} for 5 minutes`);
        retried = true;
        result.writes.retried++;
        const wait = Number(answer?.retryAfter ?? '0.5');
        await sleep(Math.min(2_000, Math.max(200, wait * 1000 * (0.5 + random()))));
      }
    };
    const ack = (id: string, version: number, type: string): void => {
      acknowledged.set(`${id}:${version}`, type);
      result.writes.acknowledged++;
    };
    const anomaly = (what: string): void => {
      harnessAnomalies++;
      result.details.push(`client: ${what}`);
    };

    let n = 0;
    const create = async (): Promise<void> => {
      const seller = SELLERS[Math.floor(random() * SELLERS.length)]!;
      const key = randomUUID();
      const i = n++;
      const body = {
        title: `Soak product ${i}`,
        description: i % 2 ? `soak item ${i}` : null,
        price: (1 + Math.floor(random() * 10_000) / 100).toFixed(2),
        stock: Math.floor(random() * 1000),
      };
      const { answer } = await untilAnswered(() =>
        call('POST', '/products', seller, body, { 'Idempotency-Key': key }),
      );
      if (answer.status !== 201)
        return anomaly(`POST answered ${answer.status}: ${JSON.stringify(answer.body)}`);
      const p = answer.body as { id: string; version: number };
      ack(p.id, p.version, 'product.created');
      result.writes.creates++;
      live.push({ id: p.id, seller, version: p.version, busy: false });
    };
    /** After a lost answer, whether the product now shows the write: only this client writes it. */
    const confirm = async (p: LocalProduct, expectDeleted: boolean, stock?: number): Promise<boolean> => {
      const { answer } = await untilAnswered(() => call('GET', `/products/${p.id}`, p.seller));
      if (expectDeleted) return answer.status === 404;
      const body = answer.body as { version?: number; stock?: number };
      return answer.status === 200 && body.version === p.version + 1 && body.stock === stock;
    };
    const update = async (p: LocalProduct): Promise<void> => {
      const stock = Math.floor(random() * 1000);
      const price = (1 + Math.floor(random() * 10_000) / 100).toFixed(2);
      const { answer, retried } = await untilAnswered(() =>
        call('PATCH', `/products/${p.id}`, p.seller, { stock, price }, { 'If-Match': `"${p.version}"` }),
      );
      if (answer.status === 200) {
        p.version = (answer.body as { version: number }).version;
      } else if (answer.status === 409 && retried && (await confirm(p, false, stock))) {
        result.writes.confirmedByRead++;
        p.version++;
      } else
        return anomaly(
          `PATCH ${p.id} v${p.version} answered ${answer.status}: ${JSON.stringify(answer.body)}`,
        );
      ack(p.id, p.version, 'product.updated');
      result.writes.updates++;
    };
    const remove = async (p: LocalProduct): Promise<boolean> => {
      const { answer, retried } = await untilAnswered(() =>
        call('DELETE', `/products/${p.id}`, p.seller, undefined, { 'If-Match': `"${p.version}"` }),
      );
      if (answer.status === 204) {
        // acknowledged below
      } else if ((answer.status === 404 || answer.status === 409) && retried && (await confirm(p, true))) {
        result.writes.confirmedByRead++;
      } else {
        anomaly(`DELETE ${p.id} v${p.version} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
        return false;
      }
      p.version++;
      ack(p.id, p.version, 'product.deleted');
      result.writes.deletes++;
      return true;
    };
    const pickIdle = (): LocalProduct | undefined => {
      for (let tries = 0; tries < 5 && live.length > 0; tries++) {
        const p = live[Math.floor(random() * live.length)]!;
        if (!p.busy) return p;
      }
      return undefined;
    };
    const oneWrite = async (): Promise<void> => {
      const r = random();
      const p = live.length < 20 || r < 0.4 ? undefined : pickIdle();
      if (!p) return create();
      p.busy = true;
      try {
        if (r < 0.88) await update(p);
        else if (await remove(p)) live.splice(live.indexOf(p), 1);
      } finally {
        p.busy = false;
      }
    };

    // --- the load, and the faults alongside it ---
    const started = Date.now();
    const loadEnds = started + loadMs; // the load goes on past it until the faults are done: if the faults take longer: every fault happens under load
    let faultsDone = false;
    let inFlight = 0;
    const writes = new Set<Promise<void>>();
    let clientError: unknown;
    const load = (async () => {
      const interval = 1000 / options.rate;
      let next = Date.now();
      while ((Date.now() < loadEnds || !faultsDone) && clientError === undefined) {
        if (inFlight >= maxInFlight) {
          await sleep(20);
          continue;
        }
        inFlight++;
        const w = oneWrite()
          .catch((err: unknown) => void (clientError ??= err))
          .finally(() => {
            inFlight--;
            writes.delete(w);
          });
        writes.add(w);
        next += interval;
        const wait = next - Date.now();
        if (wait > 0) await sleep(wait);
        else next = Date.now(); // behind: do not burst to catch up
      }
      await Promise.all([...writes]);
    })();

    let quiet = true; // random kills pause while Kafka or PostgreSQL is down (a start-up during an outage is another test)
    const at = async (fraction: number): Promise<void> => {
      const wait = started + loadMs * fraction - Date.now();
      if (wait > 0) await sleep(wait);
    };
    /** SIGKILLs a random live process of `role`; its slot restarts it after a short random delay. */
    const kill = async (role: Role): Promise<void> => {
      const candidates = slots.filter((s) => s.role === role);
      const slot = candidates[Math.floor(faultRandom() * candidates.length)]!;
      const proc = slot.proc;
      if (!proc || proc.child.exitCode !== null || slot.killedByUs) return;
      if (slot.role === 'consumer') await scrapeDuplicates(slot, group);
      slot.killedByUs = true;
      proc.child.kill('SIGKILL');
      if (slot.role === 'relay') result.faults.relayKills++;
      else result.faults.consumerKills++;
      log(`SIGKILL ${slot.name} (gen ${slot.generation})`);
    };
    /**
     * Waits until the pipeline has caught up with every write made so far (published and applied), so
     * the next fault meets consumers that are consuming: after Kafka returns, a consumer group can take
     * a session timeout (~30 s) to rebalance. Load continues meanwhile.
     */
    const settle = async (when: string): Promise<void> => {
      const since = Date.now();
      const target = acknowledged.size;
      const caughtUp = await waitFor(
        async () => {
          const { rows } = await sql!.query<{ published: number; applied: number }>(
            `select (select count(*)::int from outbox_event where status = 'PUBLISHED') as published,
                    (select count(*)::int from processed_event where consumer_group = $1) as applied`,
            [group],
          );
          return rows[0]!.published >= target && rows[0]!.applied >= target;
        },
        { description: `the pipeline to catch up ${when}`, timeoutMs: 300_000, intervalMs: 500 },
      ).then(
        () => true,
        () => false,
      );
      log(
        `${caughtUp ? 'caught up' : 'NOT caught up'} ${when} in ${Math.round((Date.now() - since) / 1000)} s`,
      );
    };
    /**
     * Waits until every relay and consumer, restarted after a kill, has finished starting: a consumer
     * still joining its group (a killed member holds a rebalance up to its session timeout) when
     * Kafka or PostgreSQL goes away fails its start-up, which is not what this soak tests.
     */
    const allReady = async (when: string): Promise<void> => {
      for (const slot of slots) {
        const ok = await waitFor(
          async () =>
            (
              await fetch(`http://127.0.0.1:${slot.proc!.metricsPort}/readyz`, {
                signal: AbortSignal.timeout(2_000),
              }).catch(() => undefined)
            )?.ok,
          { description: `${slot.name} ready ${when}`, timeoutMs: 180_000, intervalMs: 500 },
        ).then(
          () => true,
          () => false,
        );
        if (!ok) log(`${slot.name} NOT ready ${when}`);
      }
    };
    const faults = (async () => {
      await at(0.1);
      quiet = false;
      await allReady('before the Kafka outage');
      log(
        `stopping Kafka for ${kafkaOutageMs / 1000} s (the relays' whole retry schedule is ${relayRetryScheduleMs()} ms)`,
      );
      await kafka!.stop();
      result.faults.kafkaStops++;
      result.effects.circuitsOpened = await watchGauge(
        slots,
        'relay',
        'shopstream_relay_circuit_open',
        kafkaOutageMs,
      );
      await kafka!.start();
      log('Kafka is back');
      await settle('after the Kafka outage');
      quiet = true;

      await at(0.35);
      quiet = false;
      await allReady('before the PostgreSQL restart');
      log(`restarting PostgreSQL (down for ${postgresDownMs / 1000} s)`);
      await postgres!.stop();
      result.faults.postgresRestarts++;
      await sleep(postgresDownMs);
      await postgres!.start();
      log('PostgreSQL is back');
      await settle('after the PostgreSQL restart');
      quiet = true;

      await at(0.55);
      // Kills pause for the rename: a rebalance then would keep both consumers from meeting the missing table.
      quiet = false;
      await allReady('before the table rename');
      await settle('before the table rename');
      log(`renaming product_search away for ${renameMs / 1000} s`);
      await renameTable(sql!, 'product_search', 'product_search_soak_away');
      result.faults.tableRenames++;
      result.effects.consumersBlocked = await watchGauge(
        slots,
        'consumer',
        `shopstream_consumer_blocked{group="${group}"}`,
        renameMs,
      );
      await renameTable(sql!, 'product_search_soak_away', 'product_search');
      quiet = true;
      log('product_search is back');
      // However the random kills fell, at least one relay and one consumer die under load.
      for (const role of ['relay', 'consumer'] as const) {
        if ((role === 'relay' ? result.faults.relayKills : result.faults.consumerKills) > 0) continue;
        await sleep(killEveryMs * (0.5 + faultRandom()));
        await kill(role);
      }
    })().finally(() => (faultsDone = true));
    let kills = 0;
    const killer = (async () => {
      while (Date.now() < loadEnds) {
        await sleep(killEveryMs * (0.5 + faultRandom()));
        if (Date.now() >= loadEnds) break;
        if (!quiet) continue;
        await kill(kills++ % 2 === 0 ? 'relay' : 'consumer'); // in turn, the instance at random
      }
    })();
    const scrapes = (async () => {
      while (!shuttingDown) {
        for (const slot of slots) if (slot.role === 'consumer') await scrapeDuplicates(slot, group);
        await sleep(2_000);
      }
    })();
    background.push(scrapes);

    await Promise.all([load, faults, killer]);
    if (clientError !== undefined) throw clientError;
    log(`load done: ${result.writes.acknowledged} acknowledged writes; draining`);

    // --- drain: every event published and applied (or the deadline) ---
    const drainStart = Date.now();
    const expected = acknowledged.size;
    result.drained = await waitFor(
      async () => {
        const { rows } = await sql!.query<{ published: number; applied: number }>(
          `select (select count(*)::int from outbox_event where status = 'PUBLISHED') as published,
                  (select count(*)::int from processed_event where consumer_group = $1) as applied`,
          [group],
        );
        return rows[0]!.published >= expected && rows[0]!.applied >= expected;
      },
      { description: 'the pipeline to drain', timeoutMs: drainTimeoutMs, intervalMs: 1_000 },
    ).then(
      () => true,
      () => false,
    );
    result.drainMs = Date.now() - drainStart;
    if (!result.drained) result.details.push(`drain: not drained after ${drainTimeoutMs} ms`);
    for (const slot of slots) if (slot.role === 'consumer') await scrapeDuplicates(slot, group);
    log(
      `drain ${result.drained ? 'done' : 'TIMED OUT'} after ${Math.round(result.drainMs / 1000)} s; stopping the services`,
    );

    // --- stop everything that writes, then check ---
    shuttingDown = true;
    await stopAll([
      ...(api ? [api] : []),
      ...slots.map((s) => s.proc).filter((p): p is ServiceProcess & { metricsPort: number } => !!p),
    ]);
    await options.beforeChecks?.({ sql, group, topic, brokers });
    result.checks.apiErrors = apiErrors;
    if (harnessAnomalies > 0)
      result.harnessError = `${harnessAnomalies} answers the client could not account for`;
    const { circuitsOpened, consumersBlocked, unavailableAnswers } = result.effects;
    if (circuitsOpened === 0 || consumersBlocked === 0 || unavailableAnswers === 0)
      result.harnessError ??= `a fault had no visible effect (circuits opened ${circuitsOpened}, consumers blocked ${consumersBlocked}, 503 answers ${unavailableAnswers}): too little load to test anything`;

    // acknowledged writes = outbox events
    const outbox = (
      await sql.query<{
        id: string;
        aggregate_id: string;
        aggregate_version: number;
        event_type: string;
        status: string;
      }>('select id, aggregate_id, aggregate_version, event_type, status from outbox_event')
    ).rows;
    result.events.outbox = outbox.length;
    const outboxKeys = new Map<string, string>();
    const extra: string[] = [];
    for (const row of outbox) {
      const key = `${row.aggregate_id}:${row.aggregate_version}`;
      if (acknowledged.get(key) !== row.event_type || outboxKeys.has(key))
        extra.push(`outbox event ${row.id} (${key} ${row.event_type}) is no acknowledged write`);
      outboxKeys.set(key, row.event_type);
    }
    const missing = [...acknowledged.keys()]
      .filter((k) => !outboxKeys.has(k))
      .map((k) => `acknowledged write ${k} has no outbox event`);
    result.checks.outboxMismatch = missing.length + extra.length;
    detail('outbox_mismatch', [...missing, ...extra]);

    result.checks.dead = outbox.filter((r) => r.status === 'DEAD').length;
    detail(
      'dead',
      outbox.filter((r) => r.status === 'DEAD').map((r) => `outbox event ${r.id} is DEAD`),
    );

    // 0 lost in Kafka; duplicates; order
    const records: ReadRecord[] = await readWholeTopic(brokers, topic);
    result.events.onTopic = records.length;
    const onTopic = new Set(records.map((r) => r.headers.ce_id));
    result.events.topicDuplicates = records.length - onTopic.size;
    const lost = outbox.filter((r) => !onTopic.has(r.id));
    result.checks.lostInKafka = lost.length;
    detail(
      'lost_in_kafka',
      lost.map((r) => `outbox event ${r.id} (${r.status}) is not on the topic`),
    );
    const violations = orderViolations(versionsByProduct(records));
    result.checks.orderViolations = violations.length;
    detail('order_violations', violations);
    result.events.consumerDuplicates = slots.reduce(
      (sum, s) => sum + s.duplicates.reduce((a, b) => a + b, 0),
      0,
    );

    // 0 not applied
    const inbox = new Set(
      (
        await sql.query<{ event_id: string }>(
          'select event_id from processed_event where consumer_group = $1',
          [group],
        )
      ).rows.map((r) => r.event_id),
    );
    const notApplied = outbox.filter((r) => !inbox.has(r.id));
    result.checks.notApplied = notApplied.length;
    detail(
      'not_applied',
      notApplied.map((r) => `outbox event ${r.id} is not in the inbox of ${group}`),
    );

    // 0 applied twice: seller_stats move by deltas, so an event applied twice leaves them off the read model they summarise
    const twice = (
      await sql.query<{
        seller_id: string;
        product_count: number | null;
        total_stock: string | null;
        n: number | null;
        stock: string | null;
      }>(
        `with live as (select seller_id, count(*)::int as n, sum(stock)::bigint as stock
                         from product_search where not deleted group by seller_id)
         select seller_id, s.product_count, s.total_stock, l.n, l.stock
           from seller_stats s full join live l using (seller_id)
          where coalesce(s.product_count, 0) <> coalesce(l.n, 0) or coalesce(s.total_stock, 0) <> coalesce(l.stock, 0)`,
      )
    ).rows;
    result.checks.appliedTwice = twice.length;
    detail(
      'applied_twice',
      twice.map(
        (r) =>
          `seller ${r.seller_id}: seller_stats ${r.product_count}/${r.total_stock}, product_search ${r.n}/${r.stock}`,
      ),
    );

    // read model = product table
    const rowDiffs = (
      await sql.query<{ id: string; version: number | null; source_version: number | null }>(
        `select coalesce(p.id, s.product_id) as id, p.version, s.source_version
           from product p full join product_search s on s.product_id = p.id
          where p.id is null or s.product_id is null or s.seller_id <> p.seller_id or s.title <> p.title
             or s.description is distinct from p.description or s.price <> p.price or s.currency <> p.currency
             or s.stock <> p.stock or s.source_version <> p.version or s.deleted <> (p.deleted_at is not null)`,
      )
    ).rows;
    const statDiffs = (
      await sql.query<{ seller_id: string }>(
        `with truth as (select seller_id, count(*)::int as n, sum(stock)::bigint as stock
                          from product where deleted_at is null group by seller_id)
         select seller_id from seller_stats s full join truth t using (seller_id)
          where coalesce(s.product_count, 0) <> coalesce(t.n, 0) or coalesce(s.total_stock, 0) <> coalesce(t.stock, 0)`,
      )
    ).rows;
    result.checks.readModelMismatch = rowDiffs.length + statDiffs.length;
    detail('read_model_mismatch', [
      ...rowDiffs.map((r) => `product ${r.id}: product v${r.version}, product_search v${r.source_version}`),
      ...statDiffs.map((r) => `seller ${r.seller_id}: seller_stats differ from the product table`),
    ]);

    // 0 DLQ records
    const dlqAdmin = new Kafka({
      clientId: 'soak-dlq',
      brokers: [brokers],
      logLevel: logLevel.NOTHING,
    }).admin();
    await dlqAdmin.connect();
    try {
      result.checks.dlq = (await dlqAdmin.fetchTopicOffsets(dlq)).reduce(
        (sum, o) => sum + Number(o.high) - Number(o.low),
        0,
      );
    } finally {
      await dlqAdmin.disconnect();
    }
    if (result.checks.dlq > 0) result.details.push(`dlq: ${result.checks.dlq} records on ${dlq}`);
  } catch (err) {
    result.harnessError =
      err instanceof Error
        ? `${err.message}${err.cause instanceof Error ? ` (${err.cause.message})` : ''}`
        : String(err);
  } finally {
    shuttingDown = true;
    await stopAll([
      ...(api ? [api] : []),
      ...slots.map((s) => s.proc).filter((p): p is ServiceProcess & { metricsPort: number } => !!p),
    ]).catch(() => undefined);
    await Promise.allSettled(background);
    await sql?.end().catch(() => undefined);
    await kafka?.destroy().catch(() => undefined);
    await postgres?.destroy().catch(() => undefined);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  const checksPass = Object.values(result.checks).every((v) => v === 0);
  result.ok = checksPass && result.drained && !result.harnessError && result.writes.acknowledged > 0;
  return result;
}

/** Renames a table, retrying while live transactions hold locks on it (lock_timeout keeps writers from queueing behind). */
async function renameTable(sql: pg.Pool, from: string, to: string): Promise<void> {
  await waitFor(
    async () => {
      const client = await sql.connect();
      try {
        await client.query('begin');
        await client.query("set local lock_timeout = '500ms'");
        await client.query(`alter table ${from} rename to ${to}`);
        await client.query('commit');
        return true;
      } catch (err) {
        await client.query('rollback').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    { description: `${from} renamed to ${to}`, timeoutMs: 60_000, intervalMs: 100 },
  );
}

/** For `ms`, samples a gauge on every live process of `role` each second; how many processes (slots) ever showed it at 1. */
async function watchGauge(slots: Slot[], role: Role, sample: string, ms: number): Promise<number> {
  const seen = new Set<string>();
  const until = Date.now() + ms;
  while (Date.now() < until) {
    for (const slot of slots) {
      if (slot.role !== role || !slot.proc || slot.proc.child.exitCode !== null) continue;
      const text = await fetch(`http://127.0.0.1:${slot.proc.metricsPort}/metrics`, {
        signal: AbortSignal.timeout(1_000),
      })
        .then((r) => r.text())
        .catch(() => '');
      const line = text.split('\n').find((l) => l.startsWith(`${sample} `) || l.startsWith(`${sample}{`));
      if (line && Number(line.slice(line.lastIndexOf(' ') + 1)) === 1) seen.add(slot.name);
    }
    await sleep(Math.max(0, Math.min(1_000, until - Date.now())));
  }
  return seen.size;
}

/** Keeps the consumer's `duplicate` outcome count of its current generation (killed consumers keep their last scrape). */
async function scrapeDuplicates(slot: Slot, group: string): Promise<void> {
  const proc = slot.proc;
  if (!proc || proc.child.exitCode !== null) return;
  const text = await fetch(`http://127.0.0.1:${proc.metricsPort}/metrics`, {
    signal: AbortSignal.timeout(2_000),
  })
    .then((r) => r.text())
    .catch(() => undefined);
  if (text === undefined) return;
  let sum = 0;
  for (const line of text.split('\n'))
    if (
      line.startsWith('shopstream_consumer_events_total{') &&
      line.includes('outcome="duplicate"') &&
      line.includes(`group="${group}"`)
    )
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  slot.duplicates[slot.duplicates.length - 1] = sum;
}

/** SIGTERM, then SIGKILL whatever has not exited after 20 s. */
async function stopAll(procs: ServiceProcess[]): Promise<void> {
  const running = procs.filter((p) => p.child.exitCode === null && p.child.signalCode === null);
  for (const p of running) p.child.kill('SIGTERM');
  await Promise.all(
    running.map(async (p) => {
      const timer = setTimeout(() => p.child.kill('SIGKILL'), 20_000);
      await p.exited;
      clearTimeout(timer);
    }),
  );
}
