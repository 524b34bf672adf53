import { buildProductEvent } from '@shopstream/shared';
import type { DeadLetter } from './dead-letter.js';
import type { ProductEvent } from './event-envelope.js';
import { EventRejectedError, dataRejection } from './event-errors.js';
import type { ApplyOutcome } from './inbox.js';
import { ConsumerMetrics } from './metrics.js';
import { RecordProcessor } from './record-processor.js';
import type { Clock, ConsumedRecord } from './record-processor.js';
import { recordingLog } from './recording-log.js';
import type { LogLine } from './recording-log.js';

const GROUP = 'g';

/** Time that passes only when the processor sleeps. */
function fakeClock(): Clock & { slept: number[] } {
  let now = 0;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
    random: () => 0.5,
  };
}

function record(overrides: Partial<ConsumedRecord> = {}): ConsumedRecord {
  const now = new Date().toISOString();
  const id = '01900000-0000-7000-8000-0000000000aa';
  const event = buildProductEvent(
    'product.created',
    {
      id,
      seller_id: '3fa85f64-5717-4562-b3fc-2c963f66afa6',
      title: 'A lamp',
      description: null,
      price: '9.99',
      currency: 'USD',
      stock: 1,
      version: 1,
      created_at: now,
      updated_at: now,
      deleted_at: null,
    },
    { shardCount: 64, topic: 't' },
  );
  return {
    topic: 't',
    partition: 2,
    offset: '41',
    key: Buffer.from(id),
    value: Buffer.from(JSON.stringify(event.payload)),
    headers: { ...event.headers },
    ...overrides,
  };
}

async function blockedGauge(metrics: ConsumerMetrics): Promise<number | undefined> {
  const metric = await metrics.registry.getSingleMetric('shopstream_consumer_blocked')!.get();
  return metric.values.find((v) => v.labels.group === GROUP)?.value;
}

async function dlqCount(metrics: ConsumerMetrics, code: string): Promise<number> {
  const metric = await metrics.registry.getSingleMetric('shopstream_consumer_dlq_events_total')!.get();
  return metric.values.find((v) => v.labels.group === GROUP && v.labels.code === code)?.value ?? 0;
}

/**
 * A processor whose apply runs `apply` for each event of a transaction in turn (a throw fails the
 * whole transaction, as in the inbox), records each transaction's events, and whose DLQ records
 * what it was sent.
 */
function setUp(apply: (event: ProductEvent) => Promise<ApplyOutcome>, deadLetter?: () => Promise<void>) {
  const transactions: string[][] = [];
  const metrics = new ConsumerMetrics();
  metrics.init(GROUP);
  const { log, lines } = recordingLog();
  const clock = fakeClock();
  const letters: DeadLetter[] = [];
  const processor = new RecordProcessor(
    { groupId: GROUP, retryBaseMs: 100, retryMaxMs: 1_000, blockedLogIntervalMs: 2_000 },
    {
      apply: async (events) => {
        transactions.push(events.map((e) => e.id));
        const outcomes: ApplyOutcome[] = [];
        for (const event of events) outcomes.push(await apply(event));
        return outcomes;
      },
      deadLetter: async (letter) => {
        await deadLetter?.();
        letters.push(letter);
      },
    },
    metrics,
    log,
    clock,
  );
  const messages = (msg: RegExp): LogLine[] => lines.filter((l) => msg.test(l.msg));
  return { processor, metrics, lines, messages, clock, letters, transactions };
}

describe('RecordProcessor', () => {
  it('blocks on a TypeError thrown by a handler, retries the same event and applies it — never dead-lettered', async () => {
    let calls = 0;
    const gaugeDuringFailures: (number | undefined)[] = [];
    const s = setUp(async () => {
      calls++;
      if (calls > 1) gaugeDuringFailures.push(await blockedGauge(s.metrics));
      // What a handler bug looks like: reading a field of something that is not there.
      if (calls <= 4) return (undefined as unknown as { outcome: ApplyOutcome }).outcome;
      return 'applied';
    });
    expect(await blockedGauge(s.metrics)).toBe(0);

    expect(await s.processor.process([record()], () => true)).toEqual(['applied']);

    expect(calls).toBe(5);
    expect(s.letters).toEqual([]);
    expect(await dlqCount(s.metrics, 'UNHANDLED')).toBe(0);
    expect(gaugeDuringFailures).toEqual([1, 1, 1, 1]);
    expect(await blockedGauge(s.metrics)).toBe(0);
    // Capped exponential backoff with jitter (random 0.5 → 3/4 of each step): 100, 200, 400, 800 ms steps.
    expect(s.clock.slept.reduce((a, b) => a + b, 0)).toBe(75 + 150 + 300 + 600);
    const [started] = s.messages(/^consumer blocked: an environmental error/);
    expect(started?.level).toBe('warn');
    expect(started?.fields).toMatchObject({ partition: 2, offset: '41', eventType: 'product.created' });
    expect(started?.fields.cause).toMatch(/^TypeError: Cannot read properties of undefined/);
    expect(s.messages(/^consumer blocked: an environmental error/)).toHaveLength(1);
    const [cleared] = s.messages(/^consumer unblocked/);
    expect(cleared?.fields).toMatchObject({ attempts: 5, blockedForMs: 1125 });
  });

  it('repeats the cause while the block lasts, and stops retrying without resolving when the partition is taken away', async () => {
    const readOnly = Object.assign(new Error('cannot execute INSERT in a read-only transaction'), {
      code: '25006',
    });
    let calls = 0;
    let assigned = true;
    const s = setUp(async () => {
      calls++;
      if (calls === 12) assigned = false; // a rebalance revokes the partition meanwhile
      throw readOnly;
    });

    expect(await s.processor.process([record()], () => assigned)).toBe('handed_over');

    expect(calls).toBe(12);
    expect(s.letters).toEqual([]);
    expect(await blockedGauge(s.metrics)).toBe(0);
    const still = s.messages(/^consumer still blocked$/);
    expect(still.length).toBeGreaterThanOrEqual(2);
    expect(still[0]?.level).toBe('error');
    expect(still[0]?.fields).toMatchObject({ sqlState: '25006' });
    expect(still[0]?.fields.cause).toContain('read-only transaction');
    expect(s.messages(/left the event uncommitted/)).toHaveLength(1);
    expect(s.messages(/^consumer unblocked/)).toHaveLength(0);
    // Never longer than the cap between two attempts.
    expect(Math.max(...s.clock.slept)).toBeLessThanOrEqual(1_000);
  });

  it('sends a record that is not JSON to the DLQ without applying it, and counts it by code', async () => {
    let applied = 0;
    const s = setUp(async () => {
      applied++;
      return 'applied';
    });

    expect(
      await s.processor.process([record({ value: Buffer.from('{"id": "not json') })], () => true),
    ).toEqual(['dead_lettered']);

    expect(applied).toBe(0);
    expect(s.letters).toHaveLength(1);
    expect(s.letters[0]).toMatchObject({ topic: 't', partition: 2, offset: '41', code: 'BAD_PAYLOAD' });
    expect(await dlqCount(s.metrics, 'BAD_PAYLOAD')).toBe(1);
    expect(await blockedGauge(s.metrics)).toBe(0);
  });

  it('dead-letters an unknown event type and a value the database refuses as data', async () => {
    const s = setUp(async (event) => {
      throw dataRejection(Object.assign(new Error('integer out of range'), { code: '22003' }), event.id);
    });
    expect(
      await s.processor.process(
        [record({ headers: { ...record().headers, ce_type: 'product.exploded' } })],
        () => true,
      ),
    ).toEqual(['dead_lettered']);
    expect(await s.processor.process([record({ offset: '42' })], () => true)).toEqual(['dead_lettered']);
    expect(s.letters.map((l) => [l.offset, l.code])).toEqual([
      ['41', 'UNKNOWN_EVENT_TYPE'],
      ['42', 'DATA_REJECTED'],
    ]);
    expect(await dlqCount(s.metrics, 'UNKNOWN_EVENT_TYPE')).toBe(1);
    expect(await dlqCount(s.metrics, 'DATA_REJECTED')).toBe(1);
  });

  it('blocks while the DLQ cannot take a rejected record, then dead-letters it once', async () => {
    let sends = 0;
    const s = setUp(
      async () => {
        throw new EventRejectedError('SCHEMA_VIOLATION', 'created event carries deleted_at');
      },
      async () => {
        if (++sends <= 2) throw Object.assign(new Error('no leader'), { type: 'LEADER_NOT_AVAILABLE' });
      },
    );
    const gauge: (number | undefined)[] = [];
    const keepGoing = (): boolean => {
      void blockedGauge(s.metrics).then((v) => gauge.push(v));
      return true;
    };

    expect(await s.processor.process([record()], keepGoing)).toEqual(['dead_lettered']);

    expect(sends).toBe(3);
    expect(s.letters).toHaveLength(1);
    expect(await dlqCount(s.metrics, 'SCHEMA_VIOLATION')).toBe(1);
    expect(gauge).toContain(1);
    expect(await blockedGauge(s.metrics)).toBe(0);
    expect(s.messages(/^consumer blocked/)[0]?.fields.cause).toContain('LEADER_NOT_AVAILABLE');
  });

  it('applies a chunk in one transaction and dead-letters its poison record apart, each record with its own outcome', async () => {
    const s = setUp(async () => 'applied');
    const chunk = [
      record({ offset: '10' }),
      record({ offset: '11', value: Buffer.from('not json') }),
      record({ offset: '12' }),
    ];

    expect(await s.processor.process(chunk, () => true)).toEqual(['applied', 'dead_lettered', 'applied']);

    expect(s.transactions).toEqual([[chunk[0]!.headers.ce_id, chunk[2]!.headers.ce_id]]);
    expect(s.letters.map((l) => [l.offset, l.code])).toEqual([['11', 'BAD_PAYLOAD']]);
  });

  it('finds the event the database refuses as data by applying the chunk one event at a time', async () => {
    const chunk = [record({ offset: '20' }), record({ offset: '21' }), record({ offset: '22' })];
    const bad = chunk[1]!.headers.ce_id;
    const s = setUp(async (event) => {
      if (event.id === bad) {
        throw dataRejection(Object.assign(new Error('value too long'), { code: '22001' }), event.id);
      }
      return 'applied';
    });

    expect(await s.processor.process(chunk, () => true)).toEqual(['applied', 'dead_lettered', 'applied']);

    const ids = chunk.map((r) => r.headers.ce_id);
    expect(s.transactions).toEqual([ids, [ids[0]], [ids[1]], [ids[2]]]);
    expect(s.letters.map((l) => [l.offset, l.code])).toEqual([['21', 'DATA_REJECTED']]);
    expect(await blockedGauge(s.metrics)).toBe(0);
  });

  it('blocks at the first event of a chunk that meets an environmental error, and resolves nothing when handed over', async () => {
    const chunk = [record({ offset: '30' }), record({ offset: '31' })];
    let calls = 0;
    const s = setUp(async () => {
      calls++;
      throw Object.assign(new Error('relation "product_search" does not exist'), { code: '42P01' });
    });

    expect(await s.processor.process(chunk, () => calls < 6)).toBe('handed_over');

    expect(s.transactions.length).toBeGreaterThanOrEqual(3);
    // The chunk once, then its first event alone, again and again: the block sits exactly at it.
    const [first] = chunk.map((r) => r.headers.ce_id);
    expect(s.transactions[0]).toEqual(chunk.map((r) => r.headers.ce_id));
    expect(new Set(s.transactions.slice(1).map((t) => t.join()))).toEqual(new Set([first]));
    expect(s.letters).toEqual([]);
    expect(s.messages(/^consumer blocked: an environmental error/)[0]?.fields).toMatchObject({
      offset: '30',
      sqlState: '42P01',
    });
  });
});
