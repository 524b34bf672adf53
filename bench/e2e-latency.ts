/**
 * End-to-end latency (commit → applied) through API → outbox → relay → Kafka → consumer, at a
 * steady request rate. Usage: npm run bench:e2e -- [--rate 500] [--duration 60]
 * Creates products at the given rate, then reads each event's times from PostgreSQL: ce_time (the
 * write), published_at (relay marked it after Kafka's ack), applied_at (consumer's transaction).
 * Prints percentiles per stage; writes bench/results/e2e-*.json. Needs `npm run infra -- up`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { repoRoot, waitFor } from '../tests/harness/index.js';
import { startStack } from '../tests/e2e/stack.js';

const { values } = parseArgs({
  options: { rate: { type: 'string', default: '500' }, duration: { type: 'string', default: '60' } },
});
const rate = Number(values.rate);
const duration = Number(values.duration);
const seller = '3fa85f64-5717-4562-b3fc-2c963f66afa6';

const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

const stack = await startStack();
const sql = new pg.Pool({ connectionString: stack.db.url, max: 2 });
try {
  const headers = {
    Authorization: `Bearer ${await stack.token(seller)}`,
    'Content-Type': 'application/json',
  };
  const body = JSON.stringify({ title: 'Wireless Mouse', price: 15.99, stock: 100 });
  let sent = 0;
  let ok = 0;
  let failed = 0;
  let inFlight = 0;
  let skipped = 0;
  const started = performance.now();
  const total = rate * duration;
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate));
      while (sent < due) {
        sent++;
        if (inFlight >= 200) {
          skipped++; // the API cannot keep up: count it rather than queue without bound
          continue;
        }
        inFlight++;
        fetch(`${stack.apiUrl}/products`, { method: 'POST', headers, body })
          .then((r) => (r.status === 201 ? ok++ : failed++))
          .catch(() => failed++)
          .finally(() => inFlight--);
      }
      if (sent >= total) {
        clearInterval(tick);
        resolve();
      }
    }, 5);
  });
  await waitFor(() => inFlight === 0, { description: 'requests to finish', timeoutMs: 60_000 });
  const sendSeconds = (performance.now() - started) / 1000;
  await waitFor(
    async () => Number((await sql.query('select count(*) from product_search')).rows[0].count) === ok,
    { description: `${ok} products applied`, timeoutMs: 300_000, intervalMs: 500 },
  );
  const { rows } = await sql.query<{ published_ms: number; applied_ms: number; total_ms: number }>(
    `select extract(epoch from e.published_at - s.event_time) * 1000 as published_ms,
            extract(epoch from s.applied_at - e.published_at) * 1000 as applied_ms,
            extract(epoch from s.applied_at - s.event_time) * 1000 as total_ms
     from product_search s join outbox_event e on e.aggregate_id = s.product_id`,
  );
  const stage = (key: 'published_ms' | 'applied_ms' | 'total_ms') => {
    const sorted = rows.map((r) => Number(r[key])).sort((a, b) => a - b);
    return {
      p50: percentile(sorted, 50),
      p95: percentile(sorted, 95),
      p99: percentile(sorted, 99),
      max: sorted[sorted.length - 1] ?? NaN,
    };
  };
  const report = {
    when: new Date().toISOString(),
    targetRate: rate,
    durationSeconds: duration,
    achievedRate: ok / sendSeconds,
    requests: { sent, ok, failed, skippedOverloaded: skipped },
    commitToPublishedMs: stage('published_ms'),
    publishedToAppliedMs: stage('applied_ms'),
    commitToAppliedMs: stage('total_ms'),
  };
  const fmt = (s: ReturnType<typeof stage>) =>
    `${s.p50.toFixed(1).padStart(8)} ${s.p95.toFixed(1).padStart(8)} ${s.p99.toFixed(1).padStart(8)} ${s.max.toFixed(1).padStart(8)}`;
  console.log(
    `\nend-to-end: target ${rate}/s for ${duration} s, achieved ${report.achievedRate.toFixed(0)}/s; ${ok} ok, ${failed} failed, ${skipped} not sent (API saturated)`,
  );
  console.log('stage (ms)                         p50      p95      p99      max');
  console.log(`commit → relay marked published ${fmt(report.commitToPublishedMs)}`);
  console.log(`published → consumer applied    ${fmt(report.publishedToAppliedMs)}`);
  console.log(`commit → applied (end to end)   ${fmt(report.commitToAppliedMs)}`);
  const dir = join(repoRoot, 'bench', 'results');
  await mkdir(dir, { recursive: true });
  const file = join(dir, `e2e-${report.when.replace(/[:.]/g, '-')}.json`);
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`written: ${file}`);
} finally {
  await sql.end();
  await stack.stop();
}
