import { pino } from 'pino';
import type { PublishOutcome } from './kafka-publisher.js';
import type { FailedEvent, PendingEvent, PublishedEvent } from './outbox-store.js';
import { PublishError } from './publish-failure.js';
import type { PublishFailureReason } from './publish-failure.js';
import { claimBatch, sendBatch, settleBatch } from './relay-loop.js';
import type { IterationResult, RelayPorts, RelaySettings } from './relay-loop.js';
import type { OwnedShards } from './shard-ownership.js';

const settings: RelaySettings = {
  batchSize: 100,
  batchMaxBytes: 1_000_000,
  maxAttempts: 3,
  backoffBaseMs: 100,
  backoffMaxMs: 1_000,
  sendTimeoutMs: 1_000,
  fenceMarginMs: 500,
  maxRecordBytes: 10_000,
};

/** Claim, send and settle in series: one pass of what the relay's loop overlaps. */
async function relayOnce(ports: RelayPorts, s: RelaySettings): Promise<IterationResult> {
  const claimed = await claimBatch(ports, s);
  if (claimed.events.length === 0)
    return { claimed: 0, published: 0, failed: 0, fencedOff: 0, selfFenced: claimed.selfFenced };
  return settleBatch(ports, s, await sendBatch(ports, s, claimed));
}

let seq = 0;
const event = (product: string, shard = 0, description = 'ok'): PendingEvent => ({
  id: `e${++seq}`,
  seq: String(seq),
  shard,
  aggregateId: product,
  eventType: 'product.updated',
  topic: 'product.events',
  payload: JSON.stringify({ id: product, description }),
  headers: { ce_id: `e${seq}` },
  attempts: 0,
  createdAt: new Date(),
});

/** A fake world: the claimed rows, a scripted publisher, and a record of every row change. */
function world(options: {
  rows: PendingEvent[];
  publish?: (events: PendingEvent[]) => PublishOutcome;
  leaseRemainingMs?: () => number;
  markable?: (id: string) => boolean;
}) {
  const marked: PublishedEvent[] = [];
  const failed: FailedEvent[] = [];
  const sent: string[][] = [];
  const dropped: number[] = [];
  const owned: OwnedShards = new Map([
    [0, '1'],
    [1, '1'],
  ]);
  const ok = (events: PendingEvent[]): PublishOutcome => ({
    published: events.map((e, i) => ({ id: e.id, partition: 0, offset: String(i) })),
    failed: [],
  });
  const ports: RelayPorts = {
    ownership: {
      shards: owned,
      claimable: owned,
      releaseExtras: async () => undefined,
      leaseRemainingMs: options.leaseRemainingMs ?? (() => 10_000),
      drop: async (shards) => {
        dropped.push(...shards);
      },
    },
    store: {
      claim: async () => options.rows,
      markPublished: async (_owned, published) => {
        const ok = published.filter((p) => (options.markable ?? (() => true))(p.id));
        marked.push(...ok);
        return new Set(ok.map((p) => p.id));
      },
      markFailed: async (_owned, f) => {
        failed.push(...f);
        return [];
      },
    },
    publisher: {
      publish: async (events) => {
        sent.push(events.map((e) => e.id));
        return (options.publish ?? ok)(events);
      },
    },
    metrics: { published: () => undefined, failed: () => undefined },
    log: pino({ level: 'silent' }),
  };
  return { ports, marked, failed, sent, dropped };
}

const failure = (events: PendingEvent[], reason: PublishFailureReason) => ({
  events,
  error: new PublishError(`failed: ${reason}`, reason),
});

describe('relayOnce', () => {
  it('changes no row when the broker is at fault, and reports it for the circuit', async () => {
    const rows = [event('a'), event('b')];
    const w = world({
      rows,
      publish: (events) => ({ published: [], failed: [failure(events, 'broker_unavailable')] }),
    });
    const result = await relayOnce(w.ports, settings);
    expect(result.environmentError?.error.reason).toBe('broker_unavailable');
    expect(result.environmentError?.topics).toEqual(['product.events']);
    expect(w.failed).toEqual([]); // no attempt counted
    expect(w.marked).toEqual([]);
  });

  it('marks the partitions that were acked when another partition failed', async () => {
    const [a1, b1, a2] = [event('a'), event('b'), event('a')];
    const w = world({
      rows: [a1!, b1!, a2!],
      publish: () => ({
        published: [{ id: b1!.id, partition: 1, offset: '7' }],
        failed: [failure([a1!, a2!], 'not_leader')],
      }),
    });
    const result = await relayOnce(w.ports, settings);
    expect(w.marked).toEqual([{ id: b1!.id, partition: 1, offset: '7' }]);
    expect(w.failed).toEqual([]);
    expect(result.environmentError?.error.reason).toBe('not_leader');
  });

  it('counts an attempt only for the record at fault, found one by one, and holds back its product', async () => {
    const [bad, next, other] = [event('p'), event('p'), event('q')];
    const w = world({
      rows: [bad!, next!, other!],
      publish: (events) =>
        events.some((e) => e.id === bad!.id)
          ? { published: [], failed: [failure(events, 'message_too_large')] }
          : { published: events.map((e) => ({ id: e.id, partition: 0, offset: '1' })), failed: [] },
    });
    await relayOnce(w.ports, settings);
    expect(w.failed.map((f) => f.id)).toEqual([bad!.id]);
    expect(w.failed[0]!.error).toMatch(/^message_too_large: /);
    expect(w.marked.map((m) => m.id)).toEqual([other!.id]); // `next` waits behind `bad`
    expect(w.sent).toEqual([[bad!.id, next!.id, other!.id], [bad!.id], [other!.id]]);
  });

  it("refuses an oversized record before sending it, and sends none of its product's later events", async () => {
    const [huge, after, other] = [event('p', 0, 'x'.repeat(20_000)), event('p'), event('q')];
    const w = world({ rows: [huge!, after!, other!] });
    await relayOnce(w.ports, settings);
    expect(w.sent).toEqual([[other!.id]]);
    expect(w.failed.map((f) => f.id)).toEqual([huge!.id]);
    expect(w.failed[0]!.error).toMatch(/RELAY_MAX_RECORD_BYTES/);
  });

  it('claims and sends nothing when the lease may lapse before a send could finish', async () => {
    const w = world({
      rows: [event('a')],
      leaseRemainingMs: () => settings.sendTimeoutMs + settings.fenceMarginMs,
    });
    const result = await relayOnce(w.ports, settings);
    expect(result).toMatchObject({ claimed: 0, selfFenced: true });
    expect(w.sent).toEqual([]);
  });

  it('does not send a claimed batch if the lease ran short after the claim (a pause in between)', async () => {
    let calls = 0;
    const w = world({ rows: [event('a')], leaseRemainingMs: () => (calls++ === 0 ? 10_000 : 0) });
    const result = await relayOnce(w.ports, settings);
    expect(result).toMatchObject({ claimed: 1, published: 0, selfFenced: true });
    expect(w.sent).toEqual([]);
    expect(w.failed).toEqual([]);
  });

  it('drops the shards whose acked rows it could no longer mark', async () => {
    const [a, b] = [event('a', 0), event('b', 1)];
    const w = world({ rows: [a!, b!], markable: (id) => id !== b!.id });
    const result = await relayOnce(w.ports, settings);
    expect(result.fencedOff).toBe(1);
    expect(w.dropped).toEqual([1]);
  });

  it('settles again after a failed write without marking twice or taking its rows for a lost shard', async () => {
    const [ok, huge] = [event('a', 0), event('b', 1, 'x'.repeat(20_000))];
    const w = world({ rows: [ok!, huge!] });
    const markFailed = w.ports.store.markFailed;
    let failures = 1;
    w.ports.store.markFailed = async (...args) => {
      if (failures-- > 0) throw new Error('connection lost');
      return markFailed(...args);
    };
    const sent = await sendBatch(w.ports, settings, await claimBatch(w.ports, settings));
    await expect(settleBatch(w.ports, settings, sent)).rejects.toThrow('connection lost');
    const result = await settleBatch(w.ports, settings, sent);
    expect(w.marked.map((m) => m.id)).toEqual([ok!.id]); // once
    expect(w.failed.map((f) => f.id)).toEqual([huge!.id]);
    expect(w.dropped).toEqual([]);
    expect(result.fencedOff).toBe(0);
  });
});
