/**
 * End-to-end latency (commit → applied) through API → outbox → relay → Kafka → consumer, at a
 * steady request rate. Usage: npm run bench:e2e -- [--rate 500] [--duration 60]
 * Creates products at the given rate on a stack of its own (fresh database and topic), then reads
 * each event's times from PostgreSQL: created_at (= ce_time, the write), published_at (relay marked
 * it after Kafka's ack), processed_at (the consumer's inbox transaction). The load driver and the
 * measurement are `shopstream demo`'s (cli/src/demo). Prints percentiles per stage; writes
 * bench/results/e2e-*.json. Needs `npm run infra -- up`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { repoRoot } from '../tests/harness/index.js';
import { startStack } from '../tests/e2e/stack.js';
import { waitUntilApplied } from '../cli/src/demo/applied.js';
import { driveLoad } from '../cli/src/demo/load.js';
import { summarizeEvents } from '../cli/src/demo/plan.js';
import type { Percentiles } from '../cli/src/demo/plan.js';

const { values } = parseArgs({
  options: { rate: { type: 'string', default: '500' }, duration: { type: 'string', default: '60' } },
});
const rate = Number(values.rate);
const duration = Number(values.duration);
const seller = '3fa85f64-5717-4562-b3fc-2c963f66afa6';

const stack = await startStack();
const sql = new pg.Pool({ connectionString: stack.db.url, max: 2 });
try {
  const load = await driveLoad({
    apiUrl: stack.apiUrl,
    token: await stack.token(seller),
    ratePerSecond: rate,
    durationSeconds: duration,
    updateShare: 0,
  });
  // The stack's database has one consumer group, so every inbox row is that consumer's.
  const { events, timedOut } = await waitUntilApplied(
    sql,
    { productIds: [...load.products.keys()], since: load.startedAt, expected: load.ok },
    { timeoutMs: 300_000 },
  );
  if (timedOut) throw new Error(`not every event was applied within 300 s (${events.length} events)`);
  const outcome = summarizeEvents(events);
  const report = {
    when: new Date().toISOString(),
    targetRate: rate,
    durationSeconds: duration,
    achievedRate: load.achievedRate,
    requests: {
      sent: load.sent,
      ok: load.ok,
      failed: load.failed,
      skippedOverloaded: load.skippedOverloaded,
    },
    commitToPublishedMs: outcome.commitToPublishedMs,
    publishedToAppliedMs: outcome.publishedToAppliedMs,
    commitToAppliedMs: outcome.commitToAppliedMs,
  };
  const cell = (n: number | null) => (n ?? NaN).toFixed(1).padStart(8);
  const fmt = (s: Percentiles) => `${cell(s.p50)} ${cell(s.p95)} ${cell(s.p99)} ${cell(s.max)}`;
  console.log(
    `\nend-to-end: target ${rate}/s for ${duration} s, achieved ${report.achievedRate.toFixed(0)}/s; ${load.ok} ok, ${load.failed} failed, ${load.skippedOverloaded} not sent (API saturated)`,
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
