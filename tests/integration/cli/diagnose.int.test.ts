import { Kafka, logLevel } from 'kafkajs';
import type { Admin, Consumer } from 'kafkajs';
import pg from 'pg';
import { buildProductEvent, migrate, newId } from '@shopstream/shared';
import {
  createTestDatabase,
  fixtureProducer,
  freePort,
  infraEnv,
  insertEvents,
  productSnapshot,
  randomGroup,
  randomTopic,
  seedOutbox,
  startService,
  waitFor,
} from '../../harness/index.js';
import type { ServiceProcess, TestDatabase } from '../../harness/index.js';
import { runCli } from './cli-fixture.js';

/**
 * `shopstream diagnose` against real Kafka and PostgreSQL, in staged broken situations: each case
 * gets its own database, topic and group, breaks one thing, and checks that the CLI (a real
 * process, --json and text) names that cause and the command that fixes it — and, where the fix
 * is a shopstream command, runs it and sees the problem go away.
 */

interface Finding {
  id: string;
  severity: 'problem' | 'warning' | 'ok';
  sentence: string;
  fix: string | null;
}
interface Report {
  group: string;
  topic: string;
  problems: number;
  findings: Finding[];
}

const brokers = infraEnv().kafkaBrokers;
const kafka = new Kafka({ clientId: 'diagnose-test', brokers: [brokers], logLevel: logLevel.NOTHING });
let admin: Admin;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
});

afterEach(async () => {
  // Last in, first out: processes stop before the database and topics they use go away.
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

afterAll(async () => {
  await admin.disconnect();
});

interface Stage {
  db: TestDatabase;
  sql: pg.Pool;
  topic: string;
  group: string;
  env: Record<string, string>;
}

/** A fresh migrated database, a topic (created unless told not to) and a group name. */
async function stage(options: { createTopic?: boolean } = {}): Promise<Stage> {
  const db = await createTestDatabase('diagnose');
  cleanups.push(() => db.drop());
  await migrate(db.url);
  const sql = new pg.Pool({ connectionString: db.url, max: 2 });
  cleanups.push(() => sql.end());
  const topic = randomTopic('diag.events');
  const group = randomGroup('diag');
  if (options.createTopic !== false) await createTopics(topic, `${topic}.dlq`);
  cleanups.push(() => admin.deleteGroups([group]));
  return {
    db,
    sql,
    topic,
    group,
    env: { DATABASE_URL: db.url, KAFKA_BROKERS: brokers, CONSUMER_GROUP_ID: group, CONSUMER_TOPIC: topic },
  };
}

async function createTopics(...topics: string[]): Promise<void> {
  await admin.createTopics({
    topics: topics.map((topic) => ({ topic, numPartitions: 3, replicationFactor: 1 })),
    waitForLeaders: true,
  });
  cleanups.push(() => admin.deleteTopics({ topics }));
}

/** Runs diagnose twice, as JSON and as text, and checks both say the same thing with the same exit code. */
async function diagnose(
  s: Stage,
  args: string[] = [],
): Promise<{ code: number; report: Report; text: string }> {
  const [json, text] = await Promise.all([
    runCli(['diagnose', '--json', ...args], s.env),
    runCli(['diagnose', ...args], s.env),
  ]);
  if (!json.stdout.trim().startsWith('{'))
    throw new Error(`diagnose --json printed:\n${json.stdout}\n${json.stderr}`);
  const report = JSON.parse(json.stdout) as Report;
  expect(text.code).toBe(json.code);
  // Ages move on between the two runs: compare with the digits blanked out.
  const blank = (x: string) => x.replace(/\d+/g, '#');
  for (const f of report.findings) {
    expect(blank(text.stdout)).toContain(blank(f.sentence));
    if (f.fix) expect(text.stdout).toContain(`fix: ${f.fix}`);
  }
  return { code: json.code, report, text: text.stdout };
}

const problems = (r: Report) => r.findings.filter((f) => f.severity === 'problem');
const finding = (r: Report, id: string): Finding => {
  const f = r.findings.find((x) => x.id === id);
  if (!f) throw new Error(`no ${id} finding in ${JSON.stringify(r.findings, null, 2)}`);
  return f;
};

/** Runs a fix that diagnose suggested, word for word, when it is a shopstream command. */
async function runFix(s: Stage, fix: string): Promise<void> {
  expect(fix).toMatch(/^npx shopstream /);
  for (const command of fix.split(' && ')) {
    const result = await runCli(command.replace(/^npx shopstream /, '').split(' '), s.env);
    if (result.code !== 0)
      throw new Error(`${command} failed (${result.code}):\n${result.stdout}\n${result.stderr}`);
  }
}

async function produce(topic: string, count: number): Promise<void> {
  // A producer per call: kafkajs keeps refreshing metadata of every topic it ever sent to, and an
  // earlier case's topic is deleted by now.
  const producer = fixtureProducer(kafka);
  await producer.connect();
  try {
    await producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: count }, (_, i) => ({ key: `k${i}`, value: `{"n":${i}}` })),
    });
  } finally {
    await producer.disconnect();
  }
}

/** A plain kafkajs consumer in `group` on `topic`, running until cleanup, once it holds partitions. */
async function kafkajsConsumer(group: string, topic: string): Promise<Consumer> {
  const consumer = kafka.consumer({ groupId: group, sessionTimeout: 10_000, heartbeatInterval: 1_000 });
  await consumer.connect();
  cleanups.push(() => consumer.disconnect());
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({ eachMessage: async () => undefined });
  await waitForMembersOn(group, topic);
  return consumer;
}

async function waitForMembersOn(group: string, topic: string): Promise<void> {
  await waitFor(
    async () => {
      const { groups } = await admin.describeGroups([group]);
      const g = groups[0];
      return g?.state === 'Stable' &&
        g.members.length > 0 &&
        g.members.every((m) => m.memberAssignment.length > 0)
        ? g
        : undefined;
    },
    { description: `group ${group} to be Stable with assignments on ${topic}`, timeoutMs: 60_000 },
  );
}

async function service(entry: string, s: Stage, env: Record<string, string>): Promise<ServiceProcess> {
  const port = await freePort();
  const proc = startService(entry, {
    ...s.env,
    METRICS_PORT: String(port),
    METRICS_HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    ...env,
  });
  cleanups.push(async () => {
    proc.child.kill('SIGKILL');
    await proc.exited;
  });
  await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.ok, {
    description: `${entry} to be ready`,
    timeoutMs: 60_000,
  }).catch((err: unknown) => {
    throw new Error(`${entry} did not become ready:\n${proc.output()}`, { cause: err });
  });
  return proc;
}

const relayEnv = (id: string) => ({
  RELAY_ID: id,
  // A short lease, so a killed relay's runs out soon; a send must fit inside it with the fence
  // margin and one heartbeat (the relay refuses a configuration where it would not).
  RELAY_LEASE_MS: '3000',
  RELAY_HEARTBEAT_MS: '500',
  KAFKA_REQUEST_TIMEOUT_MS: '1500',
  RELAY_FENCE_MARGIN_MS: '500',
  RELAY_POLL_INTERVAL_MS: '200',
});

const statusCounts = async (s: Stage): Promise<Record<string, number>> => {
  const { rows } = await s.sql.query<{ status: string; n: number }>(
    'select status, count(*)::int as n from outbox_event group by status',
  );
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
};

describe('shopstream diagnose', () => {
  it('names the original failure when the group has committed offsets at the log end, and the fix works', async () => {
    const s = await stage();
    await produce(s.topic, 9);
    const ends = await admin.fetchTopicOffsets(s.topic);
    await admin.setOffsets({
      groupId: s.group,
      topic: s.topic,
      partitions: ends.map((e) => ({ partition: e.partition, offset: e.high })),
    });

    const { code, report, text } = await diagnose(s);
    expect(code).toBe(1);
    expect(problems(report).map((f) => f.id)).toEqual(['offsets-at-log-end']);
    const f = finding(report, 'offsets-at-log-end');
    expect(f.sentence).toContain(
      "the group's committed offsets are already at the end of the log: a consumer that starts now sees 0 messages until new events arrive",
    );
    expect(f.sentence).toContain(s.group);
    expect(f.sentence).toContain(`${s.topic} holds`);
    expect(f.sentence).toContain('9 message(s)');
    expect(f.fix).toBe(
      `npx shopstream reset-offsets --group ${s.group} --topic ${s.topic} --to-earliest --execute`,
    );
    expect(text).toMatch(
      /^PROBLEM +Group .* the group's committed offsets are already at the end of the log/m,
    );

    // The suggested reset, run as printed: the group now has the 9 messages to read again.
    await runFix(s, f.fix!);
    const after = await diagnose(s);
    expect(after.report.findings.map((x) => x.id)).not.toContain('offsets-at-log-end');
    expect(finding(after.report, 'no-members').sentence).toContain('9 message(s)');
  });

  it('says the members consume another topic when the group reads U and diagnose asks about T', async () => {
    const s = await stage();
    const other = randomTopic('diag.other');
    await createTopics(other);
    await produce(s.topic, 3);
    await kafkajsConsumer(s.group, other);

    const { code, report, text } = await diagnose(s, ['--group', s.group, '--topic', s.topic]);
    expect(code).toBe(1);
    expect(problems(report).map((f) => f.id)).toEqual(['members-on-other-topic']);
    const f = finding(report, 'members-on-other-topic');
    expect(f.sentence).toContain(`Consumer group ${s.group} has 1 member(s)`);
    expect(f.sentence).toContain(`they consume ${other}, not ${s.topic}`);
    expect(f.fix).toContain(`CONSUMER_TOPIC=${s.topic}`);
    expect(text).toContain(`fix: CONSUMER_GROUP_ID=${s.group} CONSUMER_TOPIC=${s.topic}`);

    // Asked about the topic it does consume, the same group is fine.
    const right = await diagnose(s, ['--topic', other]);
    expect(problems(right.report)).toEqual([]);
    expect(right.code).toBe(0);
  });

  it('says the relay is not running, with the pending count and age, when events wait and the relay died', async () => {
    const s = await stage();
    await kafkajsConsumer(s.group, s.topic);
    // A real relay registers, then dies without a goodbye (SIGKILL): its lease runs out.
    const relay = await service('services/relay/src/main.ts', s, relayEnv('diag-relay-1'));
    await waitFor(
      async () =>
        (await s.sql.query(`select 1 from relay_member where owner = 'diag-relay-1'`)).rowCount === 1,
      { description: 'the relay to register' },
    );
    relay.child.kill('SIGKILL');
    await relay.exited;
    await waitFor(
      async () =>
        (await s.sql.query(`select 1 from relay_member where owner = 'diag-relay-1' and lease_until < now()`))
          .rowCount === 1,
      { description: 'the dead relay lease to run out' },
    );
    await seedOutbox(s.sql, { topic: s.topic, products: 3, eventsPerProduct: 2 });
    await s.sql.query(`update outbox_event set created_at = now() - interval '5 minutes'`);

    const { code, report } = await diagnose(s);
    expect(code).toBe(1);
    expect(problems(report).map((f) => f.id)).toEqual(['relay-not-running']);
    const f = finding(report, 'relay-not-running');
    expect(f.sentence).toMatch(
      new RegExp(`^6 event\\(s\\) for ${s.topic.replaceAll('.', '\\.')} are stuck PENDING`),
    );
    expect(f.sentence).toMatch(/the oldest for 5 min \d+ s/);
    expect(f.sentence).toContain('no relay is running');
    expect(f.sentence).toContain('diag-relay-1');
    expect(f.fix).toContain('services/relay/dist/main.js');
  });

  it('names the product a DEAD row blocks and the requeue command, and the requeue unblocks it', async () => {
    const s = await stage();
    // Product A flows; product X's first event is DEAD (as after 10 failed attempts), its second waits.
    await seedOutbox(s.sql, { topic: s.topic, products: 1, eventsPerProduct: 2 });
    const x = newId();
    const xEvents = [1, 2].map((v) =>
      buildProductEvent(v === 1 ? 'product.created' : 'product.updated', productSnapshot(x, v), {
        shardCount: 64,
        topic: s.topic,
      }),
    );
    await insertEvents(s.sql, xEvents);
    const deadId = xEvents[0]!.id;
    await s.sql.query(
      `update outbox_event set status = 'DEAD', attempts = 10, last_error = 'staged: broker refused the record' where id = $1`,
      [deadId],
    );
    await service('services/relay/src/main.ts', s, relayEnv('diag-relay-2'));
    await service('services/consumer/src/main.ts', s, {});
    await waitForMembersOn(s.group, s.topic);
    await waitFor(async () => (await statusCounts(s)).PUBLISHED === 2, {
      description: "product A's 2 events published",
    });

    const { code, report } = await diagnose(s);
    expect(problems(report).map((f) => f.id)).toEqual(['dead-row']);
    expect(code).toBe(1);
    const f = finding(report, 'dead-row');
    expect(f.sentence).toContain(`Product ${x} is blocked by DEAD outbox event ${deadId}`);
    expect(f.sentence).toContain(`1 later event(s) of product ${x} are held back`);
    expect(f.sentence).toContain('staged: broker refused the record');
    expect(f.fix).toBe(`npx shopstream outbox requeue ${deadId}`);

    await runFix(s, f.fix!);
    await waitFor(async () => (await statusCounts(s)).PUBLISHED === 4, {
      description: "product X's events published",
    });
    const after = await diagnose(s);
    expect(problems(after.report)).toEqual([]);
    expect(after.code).toBe(0);
  });

  it('groups 60 DEAD rows of a broker outage into one finding with one fix, apart from 2 too large ones; the fix requeues exactly the 60', async () => {
    const s = await stage();
    // 60 products whose only event went DEAD while Kafka was down, and 2 whose first event Kafka
    // refused as too large (their second event waits behind it): as the relay records them.
    const outage = await seedOutbox(s.sql, { topic: s.topic, products: 60, eventsPerProduct: 1 });
    const large = await seedOutbox(s.sql, { topic: s.topic, products: 2, eventsPerProduct: 2 });
    const { rows: outageRows } = await s.sql.query<{ id: string }>(
      `update outbox_event set status = 'DEAD', attempts = 10,
         last_error = 'broker_unavailable: failed to publish 60 outbox events: Connection error'
       where aggregate_id = any($1::uuid[]) returning id`,
      [outage],
    );
    const { rows: largeRows } = await s.sql.query<{ id: string }>(
      `update outbox_event set status = 'DEAD', attempts = 10,
         last_error = 'message_too_large: failed to publish 1 outbox events: The request included a message larger than the max message size the server will accept'
       where aggregate_id = any($1::uuid[]) and aggregate_version = 1 returning id`,
      [large],
    );
    expect([outageRows.length, largeRows.length]).toEqual([60, 2]);
    const before = await statusCounts(s);
    expect(before).toEqual({ DEAD: 62, PENDING: 2 });

    const { code, report, text } = await diagnose(s);
    expect(code).toBe(1);
    const dead = report.findings.filter((f) => f.id === 'dead-row');
    expect(dead).toHaveLength(2);
    const [broker, tooLarge] = dead;
    expect(broker!.severity).toBe('problem');
    expect(broker!.sentence).toMatch(
      new RegExp(
        `^60 DEAD outbox events for ${s.topic.replaceAll('.', '\\.')} share one cause \\(error class broker_unavailable: `,
      ),
    );
    expect(broker!.sentence).toContain(
      'last error: broker_unavailable: failed to publish 60 outbox events: Connection error',
    );
    expect(broker!.sentence).toContain('they block 60 product(s)');
    expect(broker!.sentence).toContain('and 55 more');
    expect(broker!.sentence).toContain('0 later PENDING event(s) of those products are held back');
    expect(broker!.fix).toBe('npx shopstream outbox requeue --all --error-class broker_unavailable');
    expect(tooLarge!.sentence).toMatch(
      /^2 DEAD outbox events for .* share one cause \(error class message_too_large: /,
    );
    expect(tooLarge!.sentence).toContain(`they block 2 product(s) (${large.join(', ')}; events `);
    expect(tooLarge!.sentence).toContain('2 later PENDING event(s) of those products are held back');
    expect(tooLarge!.sentence).toContain('2 PENDING event(s) for');
    expect(tooLarge!.fix).toBe('npx shopstream outbox requeue --all --error-class message_too_large');
    // One paragraph per cause in the text too, not one per row.
    expect(text.match(/^PROBLEM +\d+ DEAD outbox events/gm)).toHaveLength(2);
    expect(text).not.toMatch(/^PROBLEM +Product /m);

    // A class that does not exist: a clear message, exit 2, nothing changed.
    const bogus = await runCli(['outbox', 'requeue', '--all', '--error-class', 'bogus'], s.env);
    expect(bogus.code).toBe(2);
    expect(bogus.stderr).toContain(
      '--error-class must be one of broker_unavailable, timeout, message_too_large, invalid_record, other, not bogus',
    );
    expect(bogus.stdout).toBe('');
    expect(await statusCounts(s)).toEqual(before);

    // The fix as printed: exactly the 60 go back to PENDING (due now, attempts reset); the 2 stay DEAD.
    await runFix(s, broker!.fix!);
    const { rows } = await s.sql.query<{ id: string; status: string; attempts: number }>(
      `select id, status, attempts from outbox_event where id = any($1::uuid[]) order by id`,
      [[...outageRows, ...largeRows].map((r) => r.id)],
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(outageRows.map((r) => byId.get(r.id))).toEqual(
      outageRows.map((r) => ({ id: r.id, status: 'PENDING', attempts: 0 })),
    );
    expect(largeRows.map((r) => byId.get(r.id)?.status)).toEqual(['DEAD', 'DEAD']);
    expect(await statusCounts(s)).toEqual({ DEAD: 2, PENDING: 62 });

    const listed = await runCli(
      ['outbox', 'list', '--status', 'dead', '--error-class', 'message_too_large', '--json'],
      s.env,
    );
    expect((JSON.parse(listed.stdout) as { id: string }[]).map((r) => r.id).sort()).toEqual(
      largeRows.map((r) => r.id).sort(),
    );
    const after = await diagnose(s);
    expect(after.report.findings.filter((f) => f.id === 'dead-row').map((f) => f.fix)).toEqual([
      'npx shopstream outbox requeue --all --error-class message_too_large',
    ]);
  });

  it('says the topic is missing', async () => {
    const s = await stage({ createTopic: false });

    const { code, report, text } = await diagnose(s);
    expect(code).toBe(1);
    expect(problems(report).map((f) => f.id)).toEqual(['topic-missing']);
    const f = finding(report, 'topic-missing');
    expect(f.sentence).toContain(`Topic ${s.topic} does not exist`);
    expect(f.fix).toContain(`--create --topic ${s.topic}`);
    expect(text).toMatch(/^PROBLEM +Topic .* does not exist/m);
  });

  it('finds no problem on a healthy pipeline: messages flow and lag is 0', async () => {
    const s = await stage();
    await seedOutbox(s.sql, { topic: s.topic, products: 2, eventsPerProduct: 2 });
    await service('services/relay/src/main.ts', s, relayEnv('diag-relay-3'));
    await service('services/consumer/src/main.ts', s, {});
    await waitForMembersOn(s.group, s.topic);
    await waitFor(
      async () => (await s.sql.query('select count(*)::int as n from processed_event')).rows[0].n === 4,
      { description: 'all 4 events applied' },
    );
    // The consumer commits after applying; give it a moment to land the last commit.
    await waitFor(
      async () => {
        const lag = await admin.fetchOffsets({ groupId: s.group, topics: [s.topic] });
        const ends = await admin.fetchTopicOffsets(s.topic);
        return ends.every(
          (e) =>
            e.high === '0' || lag[0]?.partitions.find((p) => p.partition === e.partition)?.offset === e.high,
        );
      },
      { description: 'the group to commit up to the log end' },
    );

    const { code, report, text } = await diagnose(s);
    expect(report.findings.map((f) => `${f.severity}:${f.id}`)).toEqual(['ok:flowing']);
    expect(code).toBe(0);
    const f = finding(report, 'flowing');
    expect(f.sentence).toContain(`group ${s.group} has 1 member(s) consuming ${s.topic}`);
    expect(f.sentence).toContain('lag is 0 message(s)');
    expect(f.sentence).toContain('1 relay(s) running');
    expect(text).toMatch(/^OK +Messages are flowing/m);
    expect(text).toContain('No problem found.');
  });
});
