import { Kafka, logLevel } from 'kafkajs';
import type { Admin, IHeaders, Producer } from 'kafkajs';
import {
  fixtureProducer,
  freePort,
  KafkaTool,
  randomGroup,
  randomTopic,
  runKafkaTool,
  startPrivateKafka,
  waitFor,
} from '../../harness/index.js';
import type { PrivateKafka } from '../../harness/index.js';
import { cliEnv, parseJson, runCli } from './cli-fixture.js';

interface RecordJson {
  partition: number;
  offset: string;
  timestamp: string;
  key: string | null;
  value: string | null;
  valueEncoding: 'utf8' | 'base64';
  headers: Record<string, string>;
  originalTopic: string | null;
  originalPartition: number | null;
  originalOffset: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  ceType: string | null;
  ceId: string | null;
}
interface ListJson {
  topic: string;
  partitions: { partition: number; low: string; high: string }[];
  records: RecordJson[];
  more: boolean;
}

/** A record read back with its bytes, to compare a replay with what was dead-lettered. */
interface RawRecord {
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

const HOUR = 3_600_000;

/** Headers as the consumer's dead-letter.ts writes them: the event's own plus the dlq_* ones. */
function dlqHeaders(
  event: { ceId?: string; ceType: string },
  original: { topic: string; partition: number; offset: number },
  error: { code: string; message: string },
): IHeaders {
  return {
    ce_specversion: '1.0',
    ...(event.ceId ? { ce_id: event.ceId } : {}),
    ce_type: event.ceType,
    ce_source: '/shopstream/api',
    'content-type': 'application/json',
    dlq_original_topic: original.topic,
    dlq_original_partition: String(original.partition),
    dlq_original_offset: String(original.offset),
    dlq_error_code: error.code,
    dlq_error_message: error.message,
    dlq_failed_at: new Date().toISOString(),
  };
}

describe('shopstream dlq, against a private Kafka broker so that every consumer group on it is ours to count', () => {
  const dlqTopic = randomTopic('orders.dlq-cli');
  const originalTopic = randomTopic('orders.events');
  const now = Date.now();
  let kafka: PrivateKafka;
  let client: Kafka;
  let admin: Admin;
  let producer: Producer;
  let env: Record<string, string>;
  const dlq = (...args: string[]): ReturnType<typeof runCli> => runCli(['dlq', ...args], env);
  const binaryValue = Buffer.from([0xff, 0xfe, 0x7b, 0x00]);

  const groups = async (): Promise<string[]> =>
    (await admin.listGroups()).groups.map((g) => g.groupId).sort();
  const offsets = async (topic: string): Promise<Record<number, { low: string; high: string }>> =>
    Object.fromEntries(
      (await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, { low: o.low, high: o.high }]),
    );

  /** Reads `topic` back with a throwaway group (only after the no-group checks), keeping the bytes. */
  async function readBack(topic: string, expected: number): Promise<RawRecord[]> {
    const consumer = client.consumer({ groupId: randomGroup('dlq-readback') });
    const out: RawRecord[] = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ partition, message }) => {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
          out.push({ partition, offset: message.offset, key: message.key, value: message.value, headers });
        },
      });
      await waitFor(() => out.length >= expected, { description: `${expected} records on ${topic}` });
    } finally {
      await consumer.disconnect();
    }
    return out;
  }

  beforeAll(async () => {
    kafka = await startPrivateKafka();
    env = {
      ...cliEnv({ databaseUrl: 'postgres://unused@127.0.0.1:1/unused', brokers: kafka.brokers }),
      CONSUMER_DLQ_TOPIC: dlqTopic,
    };
    client = new Kafka({ clientId: 'dlq-cli-test', brokers: [kafka.brokers], logLevel: logLevel.NOTHING });
    admin = client.admin();
    await admin.connect();
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic: dlqTopic, numPartitions: 2, replicationFactor: 1 },
        { topic: originalTopic, numPartitions: 3, replicationFactor: 1 },
      ],
    });
    producer = fixtureProducer(client);
    await producer.connect();
    const o = (partition: number, offset: number) => ({ topic: originalTopic, partition, offset });
    await producer.send({
      topic: dlqTopic,
      acks: -1,
      messages: [
        {
          partition: 0,
          key: 'product-1',
          value: '{"id":"product-1","version":1}',
          timestamp: String(now - 60_000),
          headers: dlqHeaders({ ceId: 'event-1', ceType: 'product.renamed' }, o(0, 10), {
            code: 'UNKNOWN_EVENT_TYPE',
            message: 'no handler for product.renamed',
          }),
        },
        {
          partition: 0,
          key: 'product-2',
          value: binaryValue,
          timestamp: String(now - 50_000),
          headers: dlqHeaders({ ceId: 'event-2', ceType: 'product.created' }, o(1, 11), {
            code: 'NOT_JSON',
            message: 'value is not JSON',
          }),
        },
        {
          partition: 0,
          key: 'product-3',
          value: '{"id":"product-3","version":1}',
          timestamp: String(now - 40_000),
          headers: dlqHeaders({ ceId: 'event-3', ceType: 'product.renamed' }, o(2, 12), {
            code: 'UNKNOWN_EVENT_TYPE',
            message: 'no handler for product.renamed',
          }),
        },
        {
          partition: 1,
          key: 'product-4',
          value: '{"id":"product-4","price":-1}',
          timestamp: String(now - 2 * HOUR),
          headers: dlqHeaders({ ceId: 'event-4', ceType: 'product.updated' }, o(0, 3), {
            code: 'SCHEMA_REJECTED',
            message: 'price: must be >= 0',
          }),
        },
        {
          partition: 1,
          key: null,
          value: '{"id":"product-5"}',
          timestamp: String(now - 30_000),
          headers: dlqHeaders({ ceType: 'product.created' }, o(1, 13), {
            code: 'MISSING_CE_ID',
            message: 'the event has no ce_id header',
          }),
        },
      ],
    });
    // Nothing above joined a group: the broker starts with none.
    expect(await groups()).toEqual([]);
  }, 180_000);

  afterAll(async () => {
    await producer?.disconnect();
    await admin?.disconnect();
    await kafka?.destroy();
  });

  it('lists every record by partition and offset with its origin, code, message, key and CloudEvents type and id', async () => {
    const result = await dlq('list', '--json');
    expect(result.code).toBe(0);
    const list = parseJson<ListJson>(result);
    expect(list.topic).toBe(dlqTopic);
    expect(list.more).toBe(false);
    expect(list.partitions).toEqual([
      { partition: 0, low: '0', high: '3' },
      { partition: 1, low: '0', high: '2' },
    ]);
    expect(list.records.map((r) => [`${r.partition}:${r.offset}`, r.errorCode, r.ceId])).toEqual([
      ['0:0', 'UNKNOWN_EVENT_TYPE', 'event-1'],
      ['0:1', 'NOT_JSON', 'event-2'],
      ['0:2', 'UNKNOWN_EVENT_TYPE', 'event-3'],
      ['1:0', 'SCHEMA_REJECTED', 'event-4'],
      ['1:1', 'MISSING_CE_ID', null],
    ]);
    expect(list.records[0]).toMatchObject({
      key: 'product-1',
      value: '{"id":"product-1","version":1}',
      originalTopic,
      originalPartition: 0,
      originalOffset: '10',
      errorMessage: 'no handler for product.renamed',
      ceType: 'product.renamed',
      timestamp: new Date(now - 60_000).toISOString(),
    });
    expect(list.records[1]).toMatchObject({ value: binaryValue.toString('base64'), valueEncoding: 'base64' });
    expect(list.records[4]).toMatchObject({ key: null, ceId: null });

    const text = await dlq('list');
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(
      `0:1  ${new Date(now - 50_000).toISOString()}  from ${originalTopic} 1:11  NOT_JSON`,
    );
    expect(text.stdout).toContain('partition 0: offsets 0-2; partition 1: offsets 0-1');
  });

  it('filters by code, partition and time, and stops at --limit', async () => {
    const ids = async (...args: string[]): Promise<string[]> => {
      const result = await dlq('list', '--json', ...args);
      expect(result.code).toBe(0);
      return parseJson<ListJson>(result).records.map((r) => `${r.partition}:${r.offset}`);
    };
    expect(await ids('--code', 'UNKNOWN_EVENT_TYPE')).toEqual(['0:0', '0:2']);
    expect(await ids('--partition', '1')).toEqual(['1:0', '1:1']);
    expect(await ids('--since', '30m')).toEqual(['0:0', '0:1', '0:2', '1:1']);
    expect(await ids('--since', new Date(now - 45_000).toISOString())).toEqual(['0:2', '1:1']);
    expect(await ids('--original-topic', 'elsewhere')).toEqual([]);
    const limited = parseJson<ListJson>(await dlq('list', '--json', '--limit', '2'));
    expect(limited.records.map((r) => `${r.partition}:${r.offset}`)).toEqual(['0:0', '0:1']);
    expect(limited.more).toBe(true);
  });

  it('shows one record with all its headers and its value', async () => {
    const result = await dlq('show', '1:0', '--json');
    expect(result.code).toBe(0);
    const record = parseJson<RecordJson>(result);
    expect(record).toMatchObject({
      partition: 1,
      offset: '0',
      key: 'product-4',
      value: '{"id":"product-4","price":-1}',
      errorCode: 'SCHEMA_REJECTED',
    });
    expect(Object.keys(record.headers).sort()).toEqual([
      'ce_id',
      'ce_source',
      'ce_specversion',
      'ce_type',
      'content-type',
      'dlq_error_code',
      'dlq_error_message',
      'dlq_failed_at',
      'dlq_original_offset',
      'dlq_original_partition',
      'dlq_original_topic',
    ]);
    const text = await dlq('show', '1:0');
    expect(text.stdout).toContain('error:      SCHEMA_REJECTED: price: must be >= 0');
    expect(text.stdout).toContain('"price": -1');

    const missing = await dlq('show', '0:99');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`no DLQ record at 0:99 (partition 0 of ${dlqTopic} holds offsets 0-2)`);
  });

  it('replays nothing in a dry run, only says what it would send', async () => {
    const before = await offsets(originalTopic);
    const result = await dlq('replay', '--all', '--json');
    expect(result.code).toBe(0);
    const plan = parseJson<{ executed: boolean; selected: RecordJson[] }>(result);
    expect(plan.executed).toBe(false);
    expect(plan.selected).toHaveLength(5);
    const text = await dlq('replay', '--code', 'NOT_JSON');
    expect(text.stdout).toContain('dry run: would replay 1 record(s)');
    expect(text.stdout).toContain(`0:1 → ${originalTopic}`);
    expect(await offsets(originalTopic)).toEqual(before);
    expect(Object.values(before).every((p) => p.high === '0')).toBe(true);
  });

  it('refuses bad input with exit 2 and a message, and changes nothing', async () => {
    const cases: [string[], string][] = [
      [['show', 'zero'], 'a DLQ record is <partition>:<offset>'],
      [['list', '--partition', '7'], `the DLQ topic ${dlqTopic} has no partition 7`],
      [['list', '--since', 'last week'], '--since takes a duration'],
      [['list', '--limit', '-3'], '--limit must be a positive integer'],
      [['replay'], 'replay needs --all'],
      [['replay', '--all', '0:1'], 'not a mix'],
      [['replay', '9:0', '--execute'], `the DLQ topic ${dlqTopic} has no partition 9`],
      [['purge', '--execute'], 'purge needs --to-offset'],
      [['purge', '--to-offset', '0:99', '--execute'], 'offset 99 is past the log end of partition 0'],
      [['purge', '--all-before', 'yesterday'], '--all-before takes an ISO 8601 time'],
      [['frobnicate'], "unknown command 'frobnicate'"],
    ];
    const before = [await offsets(dlqTopic), await offsets(originalTopic)];
    for (const [args, message] of cases) {
      const result = await dlq(...args);
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect(result.stderr).toContain(message);
    }
    expect([await offsets(dlqTopic), await offsets(originalTopic)]).toEqual(before);
  });

  it('says so with exit 1 when Kafka cannot be reached or the DLQ topic does not exist', async () => {
    const down = await runCli(['dlq', 'list'], { ...env, KAFKA_BROKERS: `127.0.0.1:${await freePort()}` });
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/cannot reach Kafka at 127\.0\.0\.1:\d+/);
    const missing = await dlq('list', '--topic', 'no.such.topic.dlq');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('the DLQ topic no.such.topic.dlq does not exist');
  }, 60_000);

  it('has read and planned without joining or creating any consumer group (kafka-consumer-groups --list agrees)', async () => {
    expect(await groups()).toEqual([]);
    const listed = await runKafkaTool(KafkaTool.consumerGroups, [
      '--bootstrap-server',
      kafka.brokers,
      '--list',
    ]);
    expect(listed.trim()).toBe('');
  }, 60_000);

  it('replays the selected records to their original topic with original key, value and headers plus dlq_replayed_at', async () => {
    const startedAt = Date.now();
    const result = await dlq('replay', '0:0', '0:1', '--execute', '--json');
    expect(result.code).toBe(0);
    expect(parseJson(result)).toMatchObject({
      executed: true,
      selected: 2,
      replayed: [
        { partition: 0, offset: '0', topic: originalTopic },
        { partition: 0, offset: '1', topic: originalTopic },
      ],
      failed: [],
    });
    // Not a terminal: plain progress lines on stderr, no bar.
    expect(result.stderr).toContain('replay: 2/2');
    expect(result.stderr).not.toContain('\r');

    const byFilter = await dlq('replay', '--code', 'MISSING_CE_ID', '--execute');
    expect(byFilter.code).toBe(0);
    expect(byFilter.stdout).toContain(`replayed 1 of 1 record(s) of ${dlqTopic}`);
    // Sending joined no group either (the idempotent producer has a producer id, not a group).
    expect(await groups()).toEqual([]);

    const landed = await readBack(originalTopic, 3);
    expect(landed).toHaveLength(3);
    // The check has teeth: a consumer that joined a group, even one that never committed, shows up.
    expect(await groups()).toEqual([expect.stringMatching(/^dlq-readback-/)]);
    const byKey = (key: string | null) =>
      landed.find((r) => (r.key === null ? key === null : r.key.toString() === key))!;
    const first = byKey('product-1');
    expect(first.value?.toString()).toBe('{"id":"product-1","version":1}');
    expect(byKey('product-2').value).toEqual(binaryValue);
    const { dlq_replayed_at: replayedAt, ...headers } = first.headers;
    expect(headers).toEqual({
      ce_specversion: '1.0',
      ce_id: 'event-1',
      ce_type: 'product.renamed',
      ce_source: '/shopstream/api',
      'content-type': 'application/json',
    });
    expect(Date.parse(replayedAt!)).toBeGreaterThanOrEqual(startedAt - 1000);
    expect(Date.parse(replayedAt!)).toBeLessThanOrEqual(Date.now());
    expect(Object.keys(byKey('product-2').headers).filter((h) => h.startsWith('dlq_'))).toEqual([
      'dlq_replayed_at',
    ]);
    // An unkeyed record goes back to the partition it came from.
    expect(byKey(null)).toMatchObject({ partition: 1 });
    expect(byKey(null).value?.toString()).toBe('{"id":"product-5"}');
    // Replaying leaves the DLQ as it was.
    expect((await offsets(dlqTopic))[0]).toEqual({ low: '0', high: '3' });
  }, 120_000);

  it('purges below an offset and before a time only with --execute: the log start moves', async () => {
    const dry = await dlq('purge', '--to-offset', '0:2', '--json');
    expect(dry.code).toBe(0);
    expect(parseJson(dry)).toMatchObject({
      executed: false,
      partitions: [{ partition: 0, low: '0', high: '3', newLow: '2', deletes: 2 }],
    });
    expect((await offsets(dlqTopic))[0]).toEqual({ low: '0', high: '3' });

    const done = await dlq('purge', '--to-offset', '0:2', '--execute');
    expect(done.code).toBe(0);
    expect(done.stdout).toContain('partition 0: deleted 2 record(s), offsets 0-1 (log start 0 → 2)');
    expect((await offsets(dlqTopic))[0]).toEqual({ low: '2', high: '3' });
    const gone = await dlq('show', '0:1');
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('holds offsets 2-2');

    // Only record 1:0 (two hours old) is older than an hour.
    const byTime = await dlq(
      'purge',
      '--all-before',
      new Date(now - HOUR).toISOString(),
      '--execute',
      '--json',
    );
    expect(byTime.code).toBe(0);
    expect(parseJson(byTime)).toMatchObject({
      executed: true,
      partitions: [
        { partition: 0, deletes: 0 },
        { partition: 1, low: '0', newLow: '1', deletes: 1 },
      ],
      after: [
        { partition: 0, low: '2', high: '3' },
        { partition: 1, low: '1', high: '2' },
      ],
    });
    expect(await offsets(dlqTopic)).toEqual({ 0: { low: '2', high: '3' }, 1: { low: '1', high: '2' } });
    const left = parseJson<ListJson>(await dlq('list', '--json'));
    expect(left.records.map((r) => `${r.partition}:${r.offset}`)).toEqual(['0:2', '1:1']);
  }, 60_000);
});
