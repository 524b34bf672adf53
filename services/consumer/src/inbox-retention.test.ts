import type { Pool } from 'pg';
import {
  HOUR_MS,
  InboxRetention,
  OLDEST_AGE_SQL,
  PURGE_BATCH_SQL,
  judgeHorizon,
  retentionSettings,
} from './inbox-retention.js';
import type { InboxRetentionMetrics } from './inbox-retention.js';
import { recordingLog } from './recording-log.js';

function recordingMetrics(): InboxRetentionMetrics & { purged: number[]; oldest: number[] } {
  const purged: number[] = [];
  const oldest: number[] = [];
  return {
    purged,
    oldest,
    inboxPurged: (_group, rows) => purged.push(rows),
    setInboxOldestAge: (_group, seconds) => oldest.push(seconds),
  };
}

/**
 * A pool whose delete statements report `batches` in turn (then 0), whose age query answers
 * `age`, and that records every statement; `fail(sql)` makes a statement throw.
 */
function fakePool(batches: number[], options: { age?: number | null; fail?: (sql: string) => boolean } = {}) {
  const statements: { sql: string; params: unknown[] | undefined }[] = [];
  const released: (Error | boolean | undefined)[] = [];
  const deletes = [...batches];
  const client = {
    on: () => undefined,
    off: () => undefined,
    release: (err?: Error | boolean) => released.push(err),
    query: async (sql: string, params?: unknown[]) => {
      statements.push({ sql, params });
      await new Promise((resolve) => setImmediate(resolve)); // a round trip: timers get their turn
      if (options.fail?.(sql))
        throw Object.assign(new Error('canceling statement due to lock timeout'), { code: '55P03' });
      if (sql === PURGE_BATCH_SQL) return { rowCount: deletes.shift() ?? 0, rows: [] };
      if (sql === OLDEST_AGE_SQL)
        return { rowCount: 1, rows: [{ age: options.age === undefined ? 3600 : options.age }] };
      return { rowCount: 0, rows: [] };
    },
  };
  const pool = { connect: async () => client } as unknown as Pool;
  return { pool, statements, released };
}

const settings = { groupId: 'g', horizonMs: 192 * HOUR_MS, intervalMs: 60_000, batchSize: 100 };

describe('inbox retention settings', () => {
  it('completes the timeouts and refuses nonsense', () => {
    expect(retentionSettings(settings)).toEqual({
      ...settings,
      lockTimeoutMs: 1_000,
      statementTimeoutMs: 10_000,
    });
    expect(() => retentionSettings({ ...settings, batchSize: 0 })).toThrow(/batchSize/);
    expect(() => retentionSettings({ ...settings, batchSize: 2.5 })).toThrow(/batchSize/);
    expect(() => retentionSettings({ ...settings, horizonMs: Number.NaN })).toThrow(/horizonMs/);
    expect(() => retentionSettings({ ...settings, groupId: '' })).toThrow(/groupId/);
  });
});

describe('a purge run', () => {
  it('deletes batch after batch until one deletes fewer than a batch, each in its own transaction', async () => {
    const { pool, statements, released } = fakePool([100, 100, 37]);
    const metrics = recordingMetrics();
    const retention = new InboxRetention(pool, settings, metrics, recordingLog().log);
    const report = await retention.runOnce();
    expect(report).toMatchObject({ purged: 237, batches: 3, oldestAgeSeconds: 3600 });
    expect(report.error).toBeUndefined();
    expect(metrics.purged).toEqual([100, 100, 37]);
    expect(metrics.oldest).toEqual([3600]);
    const deletes = statements.filter((s) => s.sql === PURGE_BATCH_SQL);
    expect(deletes.map((d) => d.params)).toEqual(Array(3).fill(['g', 192 * 3600, 100]));
    // begin, timeouts, statement, commit: per batch and for the age query.
    expect(statements.filter((s) => s.sql === 'begin')).toHaveLength(4);
    expect(statements.filter((s) => s.sql === 'commit')).toHaveLength(4);
    expect(statements.find((s) => s.sql.includes('set_config'))?.params).toEqual(['1000ms', '10000ms']);
    expect(released).toEqual([undefined, undefined, undefined, undefined]);
  });

  it('stops after the first statement when there is less than a batch, and reports an empty inbox as age 0', async () => {
    const { pool } = fakePool([0], { age: null });
    const metrics = recordingMetrics();
    const report = await new InboxRetention(pool, settings, metrics, recordingLog().log).runOnce();
    expect(report).toMatchObject({ purged: 0, batches: 1, oldestAgeSeconds: 0 });
    expect(metrics.purged).toEqual([]);
    expect(metrics.oldest).toEqual([0]);
  });

  it('never throws: an error ends the run, is logged with what was purged, and rolls back', async () => {
    let deletes = 0;
    const { pool, statements } = fakePool([100, 100], {
      fail: (sql) => sql === PURGE_BATCH_SQL && ++deletes === 2,
    });
    const metrics = recordingMetrics();
    const { log, lines } = recordingLog();
    const report = await new InboxRetention(pool, settings, metrics, log).runOnce();
    expect(report.purged).toBe(100);
    expect(report.error?.message).toMatch(/lock timeout/);
    expect(metrics.purged).toEqual([100]); // the counter has exactly what was committed
    expect(statements.filter((s) => s.sql === 'rollback')).toHaveLength(1);
    const warn = lines.find((l) => l.level === 'warn');
    expect(warn?.msg).toMatch(/inbox purge failed/);
    expect(warn?.fields).toMatchObject({ groupId: 'g', purged: 100, retryInMs: 60_000 });
  });

  it('joins a run in progress instead of starting a second one', async () => {
    const { pool, statements } = fakePool([5]);
    const retention = new InboxRetention(pool, settings, recordingMetrics(), recordingLog().log);
    const [a, b] = await Promise.all([retention.runOnce(), retention.runOnce()]);
    expect(a).toBe(b);
    expect(statements.filter((s) => s.sql === PURGE_BATCH_SQL)).toHaveLength(1);
  });

  it('stop() ends a run between batches and schedules nothing more', async () => {
    const { pool, statements } = fakePool(Array(1000).fill(100));
    const retention = new InboxRetention(
      pool,
      { ...settings, intervalMs: 100 },
      recordingMetrics(),
      recordingLog().log,
    );
    retention.start();
    await new Promise((resolve) => setTimeout(resolve, 5));
    await retention.stop();
    const n = statements.filter((s) => s.sql === PURGE_BATCH_SQL).length;
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThan(1000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(statements.filter((s) => s.sql === PURGE_BATCH_SQL)).toHaveLength(n);
  });
});

describe('judging the horizon against the topic retention', () => {
  const topic = (retentionMs: number | null, cleanupPolicy = 'delete') => ({
    topic: 'product.events',
    retentionMs,
    cleanupPolicy,
  });

  it('is covered when the horizon is at least the retention (192 h over the 7-day default)', () => {
    const verdict = judgeHorizon(192 * HOUR_MS, topic(604_800_000));
    expect(verdict.covered).toBe(true);
    expect(verdict.meaning).toMatch(/retention\.ms 604800000 \(168 h\).*192 h/);
  });

  it('warns, naming both values and what it means, when the horizon is shorter', () => {
    const verdict = judgeHorizon(24 * HOUR_MS, topic(604_800_000));
    expect(verdict.covered).toBe(false);
    expect(verdict.meaning).toMatch(/retention\.ms 604800000 \(168 h\)/);
    expect(verdict.meaning).toMatch(/only 24 h/);
    expect(verdict.meaning).toMatch(/version-guarded.*stale/);
    expect(verdict.meaning).toMatch(/CONSUMER_INBOX_RETENTION_HOURS/);
  });

  it('is never covered for a topic that keeps records forever', () => {
    expect(judgeHorizon(10_000 * HOUR_MS, topic(null)).covered).toBe(false);
    expect(judgeHorizon(10_000 * HOUR_MS, topic(null, 'compact')).meaning).toMatch(/forever.*compact/);
  });
});
