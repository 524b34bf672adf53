import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { pino } from 'pino';
import { OutboxMaintenance } from '@shopstream/relay';
import type { MaintenanceReport } from '@shopstream/relay';
import { repoRoot, seedOutbox } from '../../harness/index.js';
import { SELLER, bearer, jsonInit, startApi } from '../api/api-under-test.js';
import type { ApiUnderTest } from '../api/api-under-test.js';

const HOUR = 3_600_000;

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
};

/**
 * DESIGN §2 "Retention must never block writers" (issue 13, item 4): the real API's write path
 * (product + outbox event + idempotency key in one transaction, through `createApp`) keeps its
 * latency while partition maintenance cannot get its locks because a long reader holds the table.
 */
describe('outbox retention while a long reader holds outbox_event', () => {
  let api: ApiUnderTest;
  let pool: pg.Pool;
  let auth: Record<string, string>;
  const log = pino({ level: 'silent' });

  beforeAll(async () => {
    api = await startApi();
    pool = new pg.Pool({ connectionString: api.db.url, max: 2 });
    pool.on('error', () => undefined);
    auth = bearer(await api.token(SELLER));
  });
  afterAll(async () => {
    await pool.end();
    await api.close();
  });

  /** Concurrent POST /products loops until `done()` says stop; every latency and status recorded. */
  const writeWhile = async (done: () => boolean, writers = 2) => {
    const latencies: number[] = [];
    const statuses: number[] = [];
    await Promise.all(
      Array.from({ length: writers }, async () => {
        while (!done() && latencies.length < 5_000) {
          const started = performance.now();
          const res = await api.request(
            '/products',
            jsonInit(
              'POST',
              { title: `Written during maintenance ${latencies.length}`, price: 3, stock: 1 },
              { ...auth, 'Idempotency-Key': randomUUID() },
            ),
          );
          await res.arrayBuffer();
          latencies.push(performance.now() - started);
          statuses.push(res.status);
        }
      }),
    );
    return { latencies, statuses };
  };

  it('API writes keep succeeding with p99 under 1 s; maintenance gives up on its locks, reports it, does not hang, and completes once the reader ends', async () => {
    const settings = { retentionHours: 24, hoursAhead: 6 }; // lock timeout, attempts, backoff: defaults
    const maintenance = new OutboxMaintenance(pool, log, settings);
    const dbNow = async () => (await api.sql.query<{ now: Date }>('select now()')).rows[0]!.now;
    const now = await dbNow();

    // Published history from two days ago (partitions to drop), and rows marked in the current
    // hour before any partition exists for it (in the published default: a partition to create,
    // rows to move).
    const old = await maintenance.run({
      now: new Date(now.getTime() - 48 * HOUR),
      steps: ['createPartitions'],
    });
    expect(old.created.length).toBeGreaterThanOrEqual(8);
    await seedOutbox(api.sql, { topic: 'product.events', products: 30, eventsPerProduct: 1 });
    await api.sql.query(
      `update outbox_event set status = 'PUBLISHED', published_at = now() - interval '44 hours'
       where id in (select id from outbox_event where status = 'PENDING' order by seq limit 10)`,
    );
    await api.sql.query(
      `update outbox_event set status = 'PUBLISHED', published_at = now()
       where id in (select id from outbox_event where status = 'PENDING' order by seq limit 10)`,
    );
    const inDefault = async () =>
      (await api.sql.query<{ n: number }>('select count(*)::int as n from outbox_event_published_default'))
        .rows[0]!.n;
    expect(await inDefault()).toBe(10);
    // Something for the purges, which must still run: an expired idempotency key.
    await api.sql.query(
      `insert into idempotency_key (seller_id, key, request_hash, response, created_at)
       values ($1, 'expired', 'h', '{}', now() - interval '25 hours')`,
      [SELLER],
    );

    // Baseline: the same writes with nothing else going on.
    const baselineUntil = performance.now() + 1_500;
    const baseline = await writeWhile(() => performance.now() > baselineUntil);

    // The long reader: ACCESS SHARE on outbox_event and every partition, until it commits.
    const reader = new pg.Client({ connectionString: api.db.url });
    reader.on('error', () => undefined);
    await reader.connect();
    let during: { latencies: number[]; statuses: number[] };
    let report: MaintenanceReport;
    try {
      await reader.query('begin');
      await reader.query('select count(*) from outbox_event');

      let maintaining = true;
      const writes = writeWhile(() => !maintaining);
      const started = performance.now();
      report = await maintenance.run();
      const maintenanceMs = performance.now() - started;
      maintaining = false;
      during = await writes;

      expect(report.ran).toBe(true);
      // It could not get the lock: every attempt timed out, and it gave up rather than wait.
      expect(report.deferred).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^attach outbox_event_p\d{10}$/),
          expect.stringMatching(/^detach outbox_event_p\d{10}$/),
        ]),
      );
      expect(report.lockTimeouts).toBeGreaterThanOrEqual(2 * maintenance.settings.ddlAttempts);
      expect(report.created).toEqual([]);
      expect(report.dropped).toEqual([]);
      // Bounded: attempts × (lock timeout + backoff cap) per step, far below this.
      expect(maintenanceMs).toBeLessThan(20_000);
      // The purges do not depend on the partition steps.
      expect(report.purged.idempotencyKeys).toBe(1);
      expect(report.failed).toEqual([]);

      expect(during.statuses.every((s) => s === 201)).toBe(true);
      expect(during.latencies.length).toBeGreaterThanOrEqual(20);
      expect(percentile(during.latencies, 99)).toBeLessThan(1_000);

      await mkdir(join(repoRoot, 'tests', 'artifacts'), { recursive: true });
      await writeFile(
        join(repoRoot, 'tests', 'artifacts', 'retention-never-blocks-writers.json'),
        JSON.stringify(
          {
            baseline: {
              writes: baseline.latencies.length,
              p50Ms: percentile(baseline.latencies, 50),
              p99Ms: percentile(baseline.latencies, 99),
              maxMs: Math.max(...baseline.latencies),
            },
            duringMaintenance: {
              writes: during.latencies.length,
              p50Ms: percentile(during.latencies, 50),
              p99Ms: percentile(during.latencies, 99),
              maxMs: Math.max(...during.latencies),
              maintenanceMs,
              lockTimeouts: report.lockTimeouts,
              deferred: report.deferred,
            },
          },
          null,
          2,
        ),
      );
    } finally {
      await reader.query('commit').catch(() => undefined);
      await reader.end();
    }

    // The reader is gone: the next run does everything, with no lock trouble.
    const next = await maintenance.run();
    expect(next.deferred).toEqual([]);
    expect(next.failed).toEqual([]);
    expect(next.lockTimeouts).toBe(0);
    const currentHour = `outbox_event_p${now.toISOString().slice(0, 13).replace(/[-T]/g, '')}`;
    expect(next.created).toContain(currentHour);
    expect(next.dropped.length).toBeGreaterThanOrEqual(8);
    expect(await inDefault()).toBe(0);
    const { rows: placed } = await api.sql.query<{ partition: string; n: number }>(
      `select tableoid::regclass::text as partition, count(*)::int as n from outbox_event
       where status = 'PUBLISHED' group by 1`,
    );
    expect(placed).toEqual([{ partition: currentHour, n: 10 }]); // the 44-hour-old ones are gone

    // Every acknowledged write is there, with its event.
    const written = baseline.statuses.length + during.statuses.length;
    const { rows } = await api.sql.query<{ products: number; events: number }>(
      `select (select count(*) from product)::int as products,
              (select count(*) from outbox_event where event_type = 'product.created' and status = 'PENDING')::int as events`,
    );
    expect(rows[0]).toEqual({ products: written, events: written + 10 });
  });
});
