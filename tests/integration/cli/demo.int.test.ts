import { infraEnv } from '../../harness/index.js';
import { startObservedStack } from '../charts/observability-stack.js';
import type { ObservedStack } from '../charts/observability-stack.js';
import { cliEnv, parseJson, runCli } from './cli-fixture.js';

interface Percentiles {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}
interface DemoJson {
  seller: string;
  consumerGroup: string;
  requests: {
    scheduled: number;
    sent: number;
    ok: number;
    failed: number;
    skippedOverloaded: number;
    creates: { ok: number; failed: number };
    updates: { ok: number; failed: number };
  };
  products: number;
  outbox: { events: number; published: number };
  applied: {
    events: number;
    appliedMoreThanOnce: number;
    notApplied: number;
    duplicatesDelivered: number | null;
    readModelCurrent: number;
  };
  latencyMs: { commitToApplied: Percentiles; commitToPublished: Percentiles };
  countsMatch: boolean;
  timedOut: boolean;
}

const seller = '3fa85f64-5717-4562-b3fc-2c963f66afa6';

describe('shopstream demo', () => {
  let stack: ObservedStack;
  let env: Record<string, string>;

  beforeAll(async () => {
    stack = await startObservedStack();
    env = {
      ...cliEnv({ databaseUrl: stack.db.url, brokers: infraEnv().kafkaBrokers, group: stack.group }),
      API_URL: stack.apiUrl,
      SHOPSTREAM_TOKEN: await stack.token(seller),
      SHOPSTREAM_METRICS_URLS: `consumer=${stack.metricsTargets.consumer}`,
    };
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('--rate 200 --duration 20: every event is applied exactly once and the counts match', async () => {
    const result = await runCli(['demo', '--rate', '200', '--duration', '20', '--json'], env, {
      timeoutMs: 170_000,
    });
    expect({ code: result.code, stderr: result.stderr.split('\n').slice(-5).join('\n') }).toMatchObject({
      code: 0,
    });
    const s = parseJson<DemoJson>(result);

    expect(s.seller).toBe(seller);
    expect(s.consumerGroup).toBe(stack.group);
    expect(s.requests.scheduled).toBe(4000);
    expect(s.requests.sent + s.requests.skippedOverloaded).toBe(4000);
    expect(s.requests.failed).toBe(0);
    expect(s.requests.ok).toBe(s.requests.sent);
    // The mix: creates, then updates of the run's own products. How many of each depends on how
    // many products were idle when a request fell due (a slow API keeps more in flight, so more
    // creates): chooseOperation's exact mix is a unit test (plan.test.ts). Here the counts must
    // agree with the database: every product starts at version 1 and each update adds one.
    expect(s.requests.creates.ok + s.requests.updates.ok).toBe(s.requests.ok);
    expect(s.requests.updates.ok).toBeGreaterThan(0);
    expect(s.requests.creates.ok).toBe(s.products);
    const { rows: versions } = await stack.sql.query<{ products: number; versions: number }>(
      `select count(*)::int as products, coalesce(sum(version), 0)::int as versions from product`,
    );
    expect(versions[0]).toEqual({ products: s.products, versions: s.requests.ok });

    // Counts in = counts out, checked against the database itself (the test database holds only
    // this run's products).
    expect(s.countsMatch).toBe(true);
    expect(s.timedOut).toBe(false);
    const { rows: outbox } = await stack.sql.query<{ events: number; products: number }>(
      `select count(*)::int as events, count(distinct aggregate_id)::int as products from outbox_event`,
    );
    expect(outbox[0]).toEqual({ events: s.requests.ok, products: s.products });
    expect(s.outbox.events).toBe(s.requests.ok);
    expect(s.applied.events).toBe(s.requests.ok);
    const { rows: inbox } = await stack.sql.query<{ rows: number; events: number; unapplied: number }>(
      `select (select count(*)::int from processed_event where consumer_group = $1) as rows,
              (select count(distinct event_id)::int from processed_event where consumer_group = $1) as events,
              (select count(*)::int from outbox_event e where not exists (
                 select 1 from processed_event p where p.consumer_group = $1 and p.event_id = e.id)) as unapplied`,
      [stack.group],
    );
    expect(inbox[0]).toEqual({ rows: s.requests.ok, events: s.requests.ok, unapplied: 0 });
    expect(s.applied).toMatchObject({ appliedMoreThanOnce: 0, notApplied: 0, readModelCurrent: s.products });
    const { rows: readModel } = await stack.sql.query<{ behind: number }>(
      `select count(*)::int as behind from product p left join product_search s on s.product_id = p.id
       where s.source_version is distinct from p.version`,
    );
    expect(readModel[0]!.behind).toBe(0);
    // Kafka may deliver an event twice; the inbox absorbs it (counted, applied once).
    expect(s.applied.duplicatesDelivered).toBeGreaterThanOrEqual(0);

    const latency = s.latencyMs.commitToApplied;
    expect(latency.count).toBe(s.requests.ok);
    expect(latency.p50).toBeGreaterThan(0);
    expect(latency.p50).toBeLessThanOrEqual(latency.p95);
    expect(latency.p95).toBeLessThanOrEqual(latency.p99);
    expect(latency.p99).toBeLessThanOrEqual(latency.max);
    expect(s.latencyMs.commitToPublished.p50).toBeLessThanOrEqual(latency.p50);
  }, 180_000);

  it('prints the summary as text and exits 1 when the events are never applied (no consumer in that group)', async () => {
    const result = await runCli(
      ['demo', '--rate', '20', '--duration', '1', '--timeout', '3'],
      { ...env, CONSUMER_GROUP_ID: `${stack.group}-nobody` },
      { timeoutMs: 60_000 },
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('counts in = counts out: NO (20 writes → 20 outbox events → 0 applied)');
    expect(result.stdout).toMatch(/requests {3}sent 20 · ok 20 \(\d+ creates, \d+ updates\) · failed 0/);
    expect(result.stderr).toContain('timed out after 3 s: 0 of 20 events applied');
  });

  it('refuses to start without a way to authenticate (exit 2)', async () => {
    const { SHOPSTREAM_TOKEN: _token, ...withoutToken } = env;
    const result = await runCli(['demo', '--duration', '1'], withoutToken);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('set JWT_SECRET');
    expect(result.stdout).toBe('');
  });
});
