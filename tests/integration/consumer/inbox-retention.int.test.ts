import pg from 'pg';
import { createLogger } from '@shopstream/shared';
import { ConsumerMetrics } from '../../../services/consumer/src/metrics.js';
import { HOUR_MS, InboxRetention, PURGE_BATCH_SQL } from '../../../services/consumer/src/inbox-retention.js';
import { randomGroup, waitFor } from '../../harness/index.js';
import {
  appliedEventIds,
  consumerFixture,
  logLines,
  metricValue,
  productEvents,
} from './consumer-fixture.js';
import type { ConsumerFixture } from './consumer-fixture.js';

// The promise these tests prove (DESIGN §2, `processed_event`; no §9 row covers it): the inbox
// stays bounded. Rows of a group older than its retention horizon are purged in small batches, each
// its own short transaction; newer rows and other groups' rows are never touched; replicas purging
// at once neither fail nor double-count; a row or table lock held elsewhere never stalls the purge
// or event processing; and a consumer whose horizon is shorter than its topic's retention.ms says
// so at start-up, since a replay from further back than the horizon is no longer covered by the inbox.

const PURGED = 'shopstream_consumer_inbox_purged_total';
const HORIZON_MS = 192 * HOUR_MS;
const silent = createLogger({ name: 'inbox-retention-test', level: 'silent' });

let f: ConsumerFixture;
const pools: pg.Pool[] = [];

beforeAll(async () => {
  f = await consumerFixture({ partitions: 2 });
});
afterAll(async () => {
  await Promise.all(pools.map((p) => p.end()));
  await f.close();
});

/** A pool of one connection, as the consumer gives its purge. */
function purgePool(): pg.Pool {
  const pool = new pg.Pool({ connectionString: f.db.url, max: 1 });
  pool.on('error', () => undefined);
  pools.push(pool);
  return pool;
}

/** `count` inbox rows of `group` processed `hoursAgo` hours ago (each a second apart, older going down). */
async function seed(group: string, count: number, hoursAgo: number): Promise<void> {
  await f.sql.query(
    `insert into processed_event (consumer_group, event_id, processed_at)
     select $1, gen_random_uuid(), now() - make_interval(hours => $3) - g * interval '1 second'
     from generate_series(1, $2) as g`,
    [group, count, hoursAgo],
  );
}

/** Rows of `group`: those older than the horizon, and all of them. */
async function rows(group: string): Promise<{ old: number; total: number }> {
  const { rows: r } = await f.sql.query<{ old: number; total: number }>(
    `select count(*) filter (where processed_at < now() - make_interval(secs => $2))::int as old,
            count(*)::int as total
     from processed_event where consumer_group = $1`,
    [group, HORIZON_MS / 1000],
  );
  return r[0]!;
}

function retention(group: string, overrides: { batchSize?: number; lockTimeoutMs?: number } = {}) {
  const metrics = new ConsumerMetrics();
  const purger = new InboxRetention(
    purgePool(),
    { groupId: group, horizonMs: HORIZON_MS, intervalMs: 60_000, batchSize: 1_000, ...overrides },
    metrics,
    silent,
  );
  return {
    purger,
    purgedCounter: async () => metricValue(await metrics.registry.metrics(), PURGED, { group }),
  };
}

describe('the inbox retention purge', () => {
  it("deletes only this group's rows older than the horizon, in several batches, and counts exactly them", async () => {
    const group = randomGroup('purge');
    const other = randomGroup('other');
    await seed(group, 2_500, 200); // past the 192 h horizon
    await seed(group, 300, 1);
    await seed(group, 40, 191); // just inside it
    await seed(other, 700, 400);
    const { purger, purgedCounter } = retention(group);

    const report = await purger.runOnce();

    expect(report.error).toBeUndefined();
    expect(report).toMatchObject({ purged: 2_500, batches: 3 }); // 1000 + 1000 + 500
    expect(await purgedCounter()).toBe(2_500);
    expect(await rows(group)).toEqual({ old: 0, total: 340 });
    expect(await rows(other)).toEqual({ old: 700, total: 700 });
    // The oldest remaining row is the 191 h one.
    expect(report.oldestAgeSeconds! / 3600).toBeGreaterThan(190.9);
    expect(report.oldestAgeSeconds! / 3600).toBeLessThan(192);

    // Nothing left to purge: one statement, nothing counted.
    expect(await purger.runOnce()).toMatchObject({ purged: 0, batches: 1 });
    expect(await purgedCounter()).toBe(2_500);
  });

  it('two replicas purging at once neither fail nor double-count', async () => {
    const group = randomGroup('twins');
    await seed(group, 6_000, 300);
    await seed(group, 100, 2);
    const a = retention(group, { batchSize: 250 });
    const b = retention(group, { batchSize: 250 });

    const [ra, rb] = await Promise.all([a.purger.runOnce(), b.purger.runOnce()]);

    expect(ra.error).toBeUndefined();
    expect(rb.error).toBeUndefined();
    expect(ra.purged + rb.purged).toBe(6_000);
    expect((await a.purgedCounter()) + (await b.purgedCounter())).toBe(6_000);
    expect(await a.purgedCounter()).toBe(ra.purged);
    expect(await b.purgedCounter()).toBe(rb.purged);
    expect(await rows(group)).toEqual({ old: 0, total: 100 });
  });

  it('skips a row an open transaction holds instead of waiting for it, and purges it next time', async () => {
    const group = randomGroup('locked');
    await seed(group, 1_500, 250);
    const holder = new pg.Client({ connectionString: f.db.url });
    await holder.connect();
    try {
      await holder.query('begin');
      const { rows: held } = await holder.query<{ event_id: string }>(
        `select event_id from processed_event where consumer_group = $1 order by processed_at limit 1 for update`,
        [group],
      );
      const { purger, purgedCounter } = retention(group, { lockTimeoutMs: 5_000 });

      const report = await purger.runOnce();

      expect(report.error).toBeUndefined();
      expect(report.purged).toBe(1_499);
      expect(report.durationMs).toBeLessThan(5_000); // did not wait out the lock timeout
      expect(await purgedCounter()).toBe(1_499);
      const left = await f.sql.query('select event_id from processed_event where consumer_group = $1', [
        group,
      ]);
      expect(left.rows).toEqual(held);

      await holder.query('commit');
      expect((await purger.runOnce()).purged).toBe(1);
      expect(await rows(group)).toEqual({ old: 0, total: 0 });
    } finally {
      await holder.query('rollback').catch(() => undefined);
      await holder.end();
    }
  });

  it('gives up within its lock_timeout on a table lock held elsewhere, reports it, and works once it is released', async () => {
    const group = randomGroup('tablelock');
    await seed(group, 300, 250);
    const holder = new pg.Client({ connectionString: f.db.url });
    await holder.connect();
    try {
      await holder.query('begin');
      // What a non-concurrent CREATE INDEX takes: conflicts with the DELETE's ROW EXCLUSIVE.
      await holder.query('lock table processed_event in share mode');
      const { purger, purgedCounter } = retention(group, { lockTimeoutMs: 300 });

      const started = Date.now();
      const report = await purger.runOnce();

      expect(Date.now() - started).toBeLessThan(3_000);
      expect((report.error as { code?: string } | undefined)?.code).toBe('55P03'); // lock_not_available
      expect(report.purged).toBe(0);
      expect(await purgedCounter()).toBe(0);

      await holder.query('commit');
      const again = await purger.runOnce();
      expect(again.error).toBeUndefined();
      expect(again.purged).toBe(300);
      expect(await purgedCounter()).toBe(300);
    } finally {
      await holder.query('rollback').catch(() => undefined);
      await holder.end();
    }
  });

  it('the purge can find its rows through the (consumer_group, processed_at) index', async () => {
    // A table this small is cheapest to scan; with seq scans off, the planner shows which index
    // serves the query (at 2 million rows it picks this index by itself: about 2 ms per batch).
    const group = randomGroup('plan');
    await seed(group, 5_000, 1);
    await seed(group, 2_000, 250);
    const client = await f.sql.connect();
    try {
      await client.query('begin');
      await client.query('analyze processed_event');
      await client.query('set local enable_seqscan = off');
      const { rows: plan } = await client.query<{ 'QUERY PLAN': string }>(
        `explain ${PURGE_BATCH_SQL}`.replace(
          /\$(\d)/g,
          (_, n: string) => ['', `'${group}'`, '691200', '1000'][Number(n)]!,
        ),
      );
      expect(plan.map((r) => r['QUERY PLAN']).join('\n')).toMatch(
        /Index Scan using processed_event_group_processed_at_idx[^\n]*\n\s*Index Cond: \(\(consumer_group = [^)]*\) AND \(processed_at </,
      );
    } finally {
      await client.query('rollback');
      client.release();
    }
  });
});

describe('a consumer process', () => {
  it('purges its own group in the background while it applies events, counting what it removed', async () => {
    await seed(f.group, 2_200, 200);
    const other = randomGroup('neighbour');
    await seed(other, 500, 200);
    const consumer = await f.startConsumer({
      CONSUMER_INBOX_PURGE_INTERVAL_MS: '500',
      CONSUMER_INBOX_PURGE_BATCH: '1000',
    });
    const events = productEvents(20, 2, f.topic);
    await f.produce(events);

    await waitFor(async () => metricValue(await consumer.metrics(), PURGED, { group: f.group }) === 2_200, {
      description: 'the consumer to count 2200 purged inbox rows',
      timeoutMs: 30_000,
    });
    await waitFor(
      async () => {
        const applied = await appliedEventIds(f);
        return events.every((e) => applied.has(e.id));
      },
      { description: 'every produced event to be applied', timeoutMs: 30_000 },
    );
    expect(await rows(f.group)).toEqual({ old: 0, total: events.length });
    expect(await rows(other)).toEqual({ old: 500, total: 500 });
    expect(metricValue(await consumer.metrics(), PURGED, { group: f.group })).toBe(2_200);
    const age = metricValue(await consumer.metrics(), 'shopstream_consumer_inbox_oldest_age_seconds', {
      group: f.group,
    });
    expect(age).toBeLessThan(120); // only the rows of the events just applied are left

    // The default horizon (192 h) covers the broker's default topic retention (168 h): no warning.
    const covered = await waitFor(
      () => logLines(consumer, 'inbox retention horizon covers the topic retention')[0],
      { description: 'the horizon check line' },
    );
    expect(covered).toMatchObject({ level: 'info', inboxRetentionHours: 192, topicRetentionMs: 604_800_000 });
    expect(logLines(consumer, 'inbox retention horizon is shorter than the topic retention')).toEqual([]);
    expect(logLines(consumer, 'inbox purged rows older than the retention horizon')[0]).toMatchObject({
      groupId: f.group,
      purged: 2_200,
      batches: 3,
    });
  });

  it("warns at start-up, naming both values, when its horizon is shorter than the topic's retention.ms", async () => {
    const admin = f.kafka.admin();
    await admin.connect();
    try {
      await admin.alterConfigs({
        validateOnly: false,
        resources: [
          {
            type: 2, // TOPIC
            name: f.topic,
            configEntries: [{ name: 'retention.ms', value: String(2 * HOUR_MS) }],
          },
        ],
      });
    } finally {
      await admin.disconnect();
    }
    const short = await f.startConsumer({ CONSUMER_INBOX_RETENTION_HOURS: '1' });
    const warning = await waitFor(
      () => logLines(short, 'inbox retention horizon is shorter than the topic retention')[0],
      { description: 'the short-horizon warning' },
    );
    expect(warning).toMatchObject({
      level: 'warn',
      groupId: f.group,
      topic: f.topic,
      inboxRetentionHours: 1,
      topicRetentionMs: 7_200_000,
    });
    expect(warning.meaning).toMatch(/retention\.ms 7200000 \(2 h\).*only 1 h/);
    expect(warning.meaning).toMatch(/no longer recognises them as duplicates/);
    expect(warning.meaning).toMatch(/version-guarded.*judged stale/);

    // A horizon past the topic's retention: no warning.
    const long = await f.startConsumer({ CONSUMER_INBOX_RETENTION_HOURS: '3' });
    await waitFor(() => logLines(long, 'inbox retention horizon covers the topic retention')[0], {
      description: 'the covered line',
    });
    expect(logLines(long, 'inbox retention horizon is shorter than the topic retention')).toEqual([]);
  });
});
