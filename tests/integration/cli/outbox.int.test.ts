import { newId } from '@shopstream/shared';
import { readTopic, seedOutbox, waitFor } from '../../harness/index.js';
import { relayFixture } from '../relay/relay-fixture.js';
import type { RelayFixture } from '../relay/relay-fixture.js';
import { cliEnv, parseJson, runCli } from './cli-fixture.js';

interface Row {
  id: string;
  status: string;
  aggregateId: string;
  aggregateVersion: number;
  attempts: number;
  lastError: string | null;
}

describe('shopstream outbox', () => {
  let f: RelayFixture;
  let env: Record<string, string>;
  let products: string[];
  /** v1 of the first 110 products, DEAD: their v2 waits behind them. */
  let deadIds: string[];

  const statusOf = async (id: string): Promise<string | undefined> =>
    (await f.sql.query<{ status: string }>('select status from outbox_event where id = $1', [id])).rows[0]
      ?.status;

  beforeAll(async () => {
    f = await relayFixture({ partitions: 3 });
    env = cliEnv({ databaseUrl: f.db.url, brokers: f.brokers, topic: f.topic });
    products = await seedOutbox(f.sql, { topic: f.topic, products: 120, eventsPerProduct: 2 });
    const { rows } = await f.sql.query<{ id: string }>(
      `update outbox_event set status = 'DEAD', attempts = 10, last_error = 'test: broker refused'
       where aggregate_version = 1 and aggregate_id = any($1::uuid[]) returning id`,
      [products.slice(0, 110)],
    );
    const { rows: ordered } = await f.sql.query<{ id: string }>(
      `select id from outbox_event where id = any($1::uuid[]) order by seq`,
      [rows.map((r) => r.id)],
    );
    deadIds = ordered.map((r) => r.id);
  });

  afterAll(async () => {
    await f?.close();
  });

  it('lists by status and product, and shows one event', async () => {
    const dead = await runCli(['outbox', 'list', '--status', 'dead', '--limit', '500', '--json'], env);
    expect(dead.code).toBe(0);
    expect(parseJson<Row[]>(dead).map((r) => r.id)).toEqual(deadIds);

    const limited = parseJson<Row[]>(await runCli(['outbox', 'list', '--status', 'DEAD', '--json'], env));
    expect(limited).toHaveLength(100);

    const one = parseJson<Row[]>(await runCli(['outbox', 'list', '--product', products[0]!, '--json'], env));
    expect(one.map((r) => [r.aggregateId, r.aggregateVersion, r.status])).toEqual([
      [products[0], 1, 'DEAD'],
      [products[0], 2, 'PENDING'],
    ]);

    const text = await runCli(['outbox', 'list', '--product', products[0]!], env);
    expect(text.stdout).toMatch(
      new RegExp(
        `^${one[0]!.id}\\s+DEAD\\s+product\\.created\\s+product ${products[0]} v1\\s+attempts 10\\s+last error: test: broker refused`,
      ),
    );

    const shown = await runCli(['outbox', 'show', one[0]!.id, '--json'], env);
    expect(shown.code).toBe(0);
    const event = parseJson<Row & { payload: { id: string }; headers: Record<string, string> }>(shown);
    expect(event.payload.id).toBe(products[0]);
    expect(event.headers.ce_id).toBe(one[0]!.id);
  });

  it('refuses bad input with exit 2 and unknown or non-DEAD events with exit 1, changing nothing', async () => {
    const before = await f.statusCounts();
    const cases: [string[], number, RegExp][] = [
      [
        ['outbox', 'list', '--status', 'lost'],
        2,
        /--status must be one of pending, published, dead, skipped/,
      ],
      [['outbox', 'list', '--product', 'p1'], 2, /--product needs a product id/],
      [['outbox', 'list', '--limit', '0'], 2, /--limit must be a positive integer/],
      [['outbox', 'show', 'not-a-uuid'], 2, /show needs an event id/],
      [['outbox', 'skip', 'not-a-uuid'], 2, /skip needs an event id/],
      [['outbox', 'requeue'], 2, /requeue needs an event id/],
      [['outbox', 'requeue', deadIds[0]!, '--all'], 2, /not both/],
      [['outbox', 'requeue', '--error-class', 'timeout'], 2, /--error-class goes with --all/],
      [
        ['outbox', 'requeue', '--all', '--error-class', 'bogus'],
        2,
        /--error-class must be one of broker_unavailable, timeout, message_too_large, invalid_record, other, not bogus/,
      ],
      [['outbox', 'list', '--error-class', 'BROKER'], 2, /--error-class must be one of/],
      [['outbox', 'requeue', newId()], 1, /no outbox event/],
      [['outbox', 'show', newId()], 1, /no outbox event/],
    ];
    for (const [args, code, message] of cases) {
      const result = await runCli(args, env);
      expect({ args, code: result.code }).toEqual({ args, code });
      expect(result.stderr).toMatch(message);
    }
    const pendingId = parseJson<Row[]>(
      await runCli(['outbox', 'list', '--product', products[0]!, '--json'], env),
    )[1]!.id;
    const notDead = await runCli(['outbox', 'skip', pendingId], env);
    expect(notDead.code).toBe(1);
    expect(notDead.stderr).toMatch(/is PENDING, not DEAD/);
    expect(await f.statusCounts()).toEqual(before);
  });

  it('skips a DEAD event (SKIPPED, never published) and requeues one (PENDING, due now)', async () => {
    const skipped = await runCli(['outbox', 'skip', deadIds[0]!, '--json'], env);
    expect(skipped.code).toBe(0);
    expect(parseJson<{ skipped: string }>(skipped)).toEqual({ skipped: deadIds[0] });
    expect(await statusOf(deadIds[0]!)).toBe('SKIPPED');

    const requeued = await runCli(['outbox', 'requeue', deadIds[1]!], env);
    expect(requeued.code).toBe(0);
    expect(requeued.stdout).toMatch(/requeued 1 DEAD event/);
    const { rows } = await f.sql.query<{ status: string; attempts: number; due: boolean }>(
      'select status, attempts, next_attempt_at <= now() as due from outbox_event where id = $1',
      [deadIds[1]],
    );
    expect(rows[0]).toEqual({ status: 'PENDING', attempts: 0, due: true });
  });

  it('requeues by error class only the DEAD events of that class (here: none are timeouts)', async () => {
    const before = await f.statusCounts();
    const result = await runCli(['outbox', 'requeue', '--all', '--error-class', 'timeout', '--json'], env);
    expect(result.code).toBe(0);
    expect(parseJson<{ requeued: string[]; errorClass: string }>(result)).toEqual({
      requeued: [],
      errorClass: 'timeout',
    });
    expect(await f.statusCounts()).toEqual(before);
    // 'test: broker refused' names no known cause: class other.
    const other = await runCli(
      ['outbox', 'list', '--status', 'dead', '--error-class', 'other', '--json'],
      env,
    );
    expect(parseJson<Row[]>(other)).toHaveLength(100);
  });

  it('requeues every DEAD event in batches with progress, and the relay then publishes them all', async () => {
    await f.startRelay();
    // The relay publishes what is not blocked: 10 products' two events and the requeued/skipped ones'.
    const remaining = deadIds.slice(2);
    const result = await runCli(['outbox', 'requeue', '--all', '--json'], env, { timeoutMs: 120_000 });
    expect(result.code).toBe(0);
    expect(parseJson<{ requeued: string[] }>(result).requeued.sort()).toEqual([...remaining].sort());
    // Not a terminal: plain progress lines on stderr, at least one per page of 100.
    const lines = result.stderr.split('\n').filter((l) => l.startsWith('requeue: '));
    expect(lines[0]).toBe(`requeue: 0/${remaining.length}`);
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(result.stderr).toContain(`requeued ${remaining.length} of ${remaining.length} DEAD event(s)`);

    // 240 events, one SKIPPED: the other 239 reach Kafka, the requeued ones among them.
    await f.waitAllPublished(239);
    expect(await f.statusCounts()).toEqual({ PUBLISHED: 239, SKIPPED: 1 });
    const records = await readTopic(f.brokers, f.topic, 239);
    const published = new Set(records.map((r) => r.headers.ce_id));
    expect(remaining.every((id) => published.has(id))).toBe(true);
    expect(published.has(deadIds[0]!)).toBe(false);
    await waitFor(async () => (await statusOf(deadIds[1]!)) === 'PUBLISHED', {
      description: 'the single requeued event to be published',
    });
  });
});
