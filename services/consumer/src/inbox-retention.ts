import type { Kafka } from 'kafkajs';
import type { Pool, PoolClient } from 'pg';
import type { Logger } from '@shopstream/shared';

/**
 * Keeps the inbox `processed_event` bounded (DESIGN §2): each consumer process deletes its own
 * group's rows older than a retention horizon, in the background, every `intervalMs`.
 *
 * Why the inbox stays keyed by event id rather than by per-partition offsets: an offset only
 * recognises a copy at an offset already passed, but the relay can publish a duplicate of an event
 * at a later offset (a retried send whose first attempt was acknowledged) or, after a partition
 * increase, in another partition. Only the event id catches those. Those duplicates arrive within
 * minutes; the long-lived copies are the ones still in the topic, which an offset reset replays.
 * So the horizon must outlast the oldest record a reset can reach: the topic's `retention.ms`
 * (7 days for product.events in this project's charts; also Kafka's default). Kafka deletes whole
 * segments, so in a quiet partition a record can outlive retention.ms by up to `segment.ms`; an
 * event replayed from beyond the horizon finds no inbox row and is judged by the read model's
 * version guard instead (product events: stale, no effect). `checkInboxHorizon` warns at start-up
 * when the horizon is shorter than the topic's retention.
 *
 * How a purge cannot disturb event processing:
 * - each batch is its own short transaction: `delete … where ctid = any(array(select ctid … limit n
 *   for update skip locked))` — it never waits for a row lock (a row some transaction holds is
 *   skipped, and purged next time), two replicas purging at once take disjoint rows, and a
 *   `lock_timeout` and `statement_timeout` bound whatever table lock or slowness it meets;
 * - batches repeat until one deletes fewer than `batchSize` rows, then the run ends; runs never
 *   overlap (the next is scheduled when one ends) and `stop()` ends a run between batches;
 * - any error is logged and the next interval tries again: a purge never throws into the consumer.
 * The purge query is served by the index (consumer_group, processed_at)
 * (Migration20261202020000_inbox_retention). "Now" is the database clock.
 */

export interface InboxRetentionSettings {
  groupId: string;
  /** Rows whose processed_at is older than this are purged. */
  horizonMs: number;
  /** Pause between the end of one purge run and the start of the next. */
  intervalMs: number;
  /** Rows per delete statement (and transaction). */
  batchSize: number;
  /** `lock_timeout` of each batch's transaction. */
  lockTimeoutMs: number;
  /** `statement_timeout` of each batch's transaction. */
  statementTimeoutMs: number;
}

export const INBOX_RETENTION_DEFAULTS = {
  lockTimeoutMs: 1_000,
  statementTimeoutMs: 10_000,
} as const;

/** What a purge reports to (ConsumerMetrics implements it). */
export interface InboxRetentionMetrics {
  inboxPurged(group: string, rows: number): void;
  setInboxOldestAge(group: string, seconds: number): void;
}

export interface PurgeReport {
  /** Rows this run deleted (exactly what the delete statements reported). */
  purged: number;
  /** Delete statements run, including the last one that deleted fewer than a batch. */
  batches: number;
  /** Age of the group's oldest remaining row after the run; 0 when none; undefined if unknown. */
  oldestAgeSeconds?: number;
  /** Set when the run ended on an error (logged; the next interval tries again). */
  error?: Error;
  durationMs: number;
}

/** One batch: at most $3 rows of group $1 older than $2 seconds, skipping rows others hold. */
export const PURGE_BATCH_SQL = `delete from processed_event
where ctid = any(array(
  select ctid from processed_event
  where consumer_group = $1 and processed_at < now() - make_interval(secs => $2)
  limit $3
  for update skip locked))`;

/** Through the (consumer_group, processed_at) index: one probe. */
export const OLDEST_AGE_SQL = `select extract(epoch from now() - min(processed_at))::float8 as age
from processed_event where consumer_group = $1`;

export const HOUR_MS = 3_600_000;

/** Validates and completes settings. @throws Error naming the bad setting. */
export function retentionSettings(
  settings: Omit<InboxRetentionSettings, keyof typeof INBOX_RETENTION_DEFAULTS> &
    Partial<Pick<InboxRetentionSettings, keyof typeof INBOX_RETENTION_DEFAULTS>>,
): InboxRetentionSettings {
  const merged: InboxRetentionSettings = { ...INBOX_RETENTION_DEFAULTS, ...settings };
  for (const key of [
    'horizonMs',
    'intervalMs',
    'batchSize',
    'lockTimeoutMs',
    'statementTimeoutMs',
  ] as const) {
    const value = merged[key];
    if (!Number.isFinite(value) || value <= 0)
      throw new Error(`inbox retention: ${key} must be a positive number, got ${String(value)}`);
  }
  if (!Number.isInteger(merged.batchSize))
    throw new Error(`inbox retention: batchSize must be an integer, got ${merged.batchSize}`);
  if (!merged.groupId) throw new Error('inbox retention: groupId is required');
  return merged;
}

export class InboxRetention {
  readonly settings: InboxRetentionSettings;
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;
  private current: Promise<PurgeReport> | undefined;

  constructor(
    private readonly pool: Pool,
    settings: Parameters<typeof retentionSettings>[0],
    private readonly metrics: InboxRetentionMetrics,
    private readonly log: Logger,
  ) {
    this.settings = retentionSettings(settings);
  }

  /** Purges now, then `intervalMs` after each run ends, until stop(). */
  start(): void {
    if (this.timer || this.stopping) return;
    const { groupId, horizonMs, intervalMs, batchSize } = this.settings;
    this.log.info(
      { groupId, inboxRetentionHours: horizonMs / HOUR_MS, intervalMs, batchSize },
      'inbox retention started',
    );
    const tick = async (): Promise<void> => {
      await this.runOnce();
      if (this.stopping) return;
      this.timer = setTimeout(() => void tick(), intervalMs);
      this.timer.unref();
    };
    this.timer = setTimeout(() => void tick(), 0);
    this.timer.unref();
  }

  /** No new run starts; a run in progress ends after its current batch. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    await this.current;
  }

  /** One purge run (or the one already in progress). Never throws: an error is in the report. */
  runOnce(): Promise<PurgeReport> {
    this.current ??= this.purge().finally(() => (this.current = undefined));
    return this.current;
  }

  private async purge(): Promise<PurgeReport> {
    const started = performance.now();
    const { groupId, horizonMs, batchSize } = this.settings;
    const report: PurgeReport = { purged: 0, batches: 0, durationMs: 0 };
    try {
      for (;;) {
        const n = await this.inTransaction((c) => this.deleteBatch(c));
        report.batches++;
        report.purged += n;
        if (n > 0) this.metrics.inboxPurged(groupId, n);
        if (n < batchSize || this.stopping) break;
      }
      report.oldestAgeSeconds = await this.inTransaction(async (c) => {
        const { rows } = await c.query<{ age: number | null }>(OLDEST_AGE_SQL, [groupId]);
        return Math.max(0, rows[0]?.age ?? 0);
      });
      this.metrics.setInboxOldestAge(groupId, report.oldestAgeSeconds);
    } catch (err) {
      report.error = err instanceof Error ? err : new Error(String(err));
    }
    report.durationMs = Math.round(performance.now() - started);
    const fields = {
      groupId,
      purged: report.purged,
      batches: report.batches,
      oldestAgeSeconds: report.oldestAgeSeconds,
      inboxRetentionHours: horizonMs / HOUR_MS,
      durationMs: report.durationMs,
    };
    if (report.error) {
      this.log.warn(
        { ...fields, err: report.error, retryInMs: this.settings.intervalMs },
        'inbox purge failed; event processing is unaffected, the next interval tries again',
      );
    } else if (report.purged > 0) {
      this.log.info(fields, 'inbox purged rows older than the retention horizon');
    } else {
      this.log.debug(fields, 'inbox purge found nothing to delete');
    }
    return report;
  }

  private async deleteBatch(client: Pick<PoolClient, 'query'>): Promise<number> {
    const { groupId, horizonMs, batchSize } = this.settings;
    const result = await client.query(PURGE_BATCH_SQL, [groupId, horizonMs / 1000, batchSize]);
    return result.rowCount ?? 0;
  }

  /** Runs `work` in its own short transaction with this purge's lock and statement timeouts. */
  private async inTransaction<T>(work: (client: Pick<PoolClient, 'query'>) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    // A checked-out client has no 'error' listener: a connection the server ends must not become
    // an uncaught exception; it is discarded on release.
    let broken: Error | undefined;
    const onError = (err: Error): void => {
      broken = err;
    };
    client.on('error', onError);
    try {
      await client.query('begin');
      await client.query(
        `select set_config('lock_timeout', $1, true), set_config('statement_timeout', $2, true)`,
        [`${Math.ceil(this.settings.lockTimeoutMs)}ms`, `${Math.ceil(this.settings.statementTimeoutMs)}ms`],
      );
      const result = await work(client);
      await client.query('commit');
      return result;
    } catch (err) {
      await client.query('rollback').catch((rollbackError: Error) => (broken ??= rollbackError));
      throw err;
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }
}

/** The source topic's retention as Kafka reports it; `retentionMs` null: records are kept forever. */
export interface TopicRetention {
  topic: string;
  retentionMs: number | null;
  cleanupPolicy: string;
}

/** `retention.ms` and `cleanup.policy` of `topic` (DescribeConfigs). */
export async function readTopicRetention(kafka: Kafka, topic: string): Promise<TopicRetention> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [
        // ConfigResourceTypes.TOPIC: kafkajs is CommonJS and Node's ESM loader does not see that export.
        { type: 2, name: topic, configNames: ['retention.ms', 'cleanup.policy'] },
      ],
    });
    const resource = resources[0];
    if (!resource || resource.errorCode !== 0)
      throw new Error(`describeConfigs ${topic}: ${resource?.errorMessage ?? 'no answer'}`);
    const value = (name: string) => resource.configEntries.find((e) => e.configName === name)?.configValue;
    const cleanupPolicy = value('cleanup.policy') ?? 'delete';
    const ms = Number(value('retention.ms') ?? NaN);
    if (!Number.isFinite(ms)) throw new Error(`describeConfigs ${topic}: no retention.ms`);
    const unbounded = ms < 0 || !cleanupPolicy.split(',').includes('delete');
    return { topic, retentionMs: unbounded ? null : ms, cleanupPolicy };
  } finally {
    await admin.disconnect();
  }
}

export interface HorizonVerdict {
  /** True when the horizon outlasts every record the topic keeps (by retention.ms). */
  covered: boolean;
  /** The sentence to log. */
  meaning: string;
}

const hours = (ms: number): string => `${Number((ms / HOUR_MS).toFixed(2))} h`;

/** Whether an inbox kept `horizonMs` still recognises every event a replay of `topic` can re-present. */
export function judgeHorizon(horizonMs: number, topic: TopicRetention): HorizonVerdict {
  const kept =
    topic.retentionMs === null
      ? `keeps records forever (retention.ms -1 or cleanup.policy ${topic.cleanupPolicy})`
      : `keeps records for retention.ms ${topic.retentionMs} (${hours(topic.retentionMs)})`;
  if (topic.retentionMs !== null && horizonMs >= topic.retentionMs) {
    return {
      covered: true,
      meaning: `topic ${topic.topic} ${kept}; the inbox keeps event ids for ${hours(horizonMs)}, so a replay from the earliest offset re-presents only events the inbox still recognises as duplicates`,
    };
  }
  return {
    covered: false,
    meaning:
      `topic ${topic.topic} ${kept} but the inbox keeps event ids for only ${hours(horizonMs)} ` +
      `(CONSUMER_INBOX_RETENTION_HOURS): an offset reset further back than ${hours(horizonMs)} re-presents events whose inbox rows were purged, ` +
      `and the inbox no longer recognises them as duplicates. product_search's upsert is version-guarded, so re-presented product events ` +
      `are judged stale and change nothing, but the inbox's exactly-once guarantee no longer covers them. ` +
      `Raise CONSUMER_INBOX_RETENTION_HOURS above the topic's retention, or never replay further back than the horizon.`,
  };
}

/**
 * At start-up: reads the source topic's retention and logs whether the inbox horizon covers it (a
 * warning when it does not). Never throws: a broker that refuses DescribeConfigs only costs the check.
 */
export async function checkInboxHorizon(
  kafka: Kafka,
  topic: string,
  groupId: string,
  horizonMs: number,
  log: Logger,
): Promise<HorizonVerdict | undefined> {
  const inboxRetentionHours = horizonMs / HOUR_MS;
  let retention: TopicRetention;
  try {
    retention = await readTopicRetention(kafka, topic);
  } catch (err) {
    log.warn(
      { err, groupId, topic, inboxRetentionHours },
      'could not read the topic retention: the inbox horizon is not checked against it',
    );
    return undefined;
  }
  const verdict = judgeHorizon(horizonMs, retention);
  const fields = {
    groupId,
    topic,
    inboxRetentionHours,
    topicRetentionMs: retention.retentionMs ?? -1,
    topicCleanupPolicy: retention.cleanupPolicy,
    meaning: verdict.meaning,
  };
  if (verdict.covered) log.info(fields, 'inbox retention horizon covers the topic retention');
  else log.warn(fields, 'inbox retention horizon is shorter than the topic retention');
  return verdict;
}
