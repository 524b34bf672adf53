import type { Pool, PoolClient } from 'pg';
import type { Logger } from '@shopstream/shared';
import { backoffMs } from '@shopstream/shared';
import { HOUR_MS, hourOfPartition, partitionName, planPartitions } from './partition-plan.js';
import type { PartitionState } from './partition-plan.js';

/**
 * Upkeep of the outbox and of the tables that grow with traffic (DESIGN §2: retention must not
 * bloat the table and must never block writers). One relay at a time runs it, in the background.
 *
 * ## The partition scheme, and why it cannot block the API
 *
 *     outbox_event                      partition by list ((published_at is null))
 *     ├── outbox_event_unpublished      (true)   PENDING, DEAD, SKIPPED: every API insert lands here
 *     └── outbox_event_published        (false)  partition by range (published_at)
 *         ├── outbox_event_pYYYYMMDDHH  one per UTC hour, created ahead, dropped whole
 *         └── outbox_event_published_default   rows of an hour that has no partition (normally none)
 *
 * (Migration20261202010000_outbox_subtree.) Every DDL here touches only the published
 * subtree. An API write inserts into `outbox_event`, which locks the root and
 * `outbox_event_unpublished` only (tuple routing opens partitions lazily), so no lock taken or
 * waited for below can delay it — with the old layout, where unpublished rows were the DEFAULT
 * partition of the range-partitioned table, every ATTACH took an ACCESS EXCLUSIVE lock on the
 * table the API inserts into and scanned it under that lock, and every DROP locked the parent.
 *
 * What the steps lock, each in its own short transaction with `SET LOCAL lock_timeout`
 * (`lockTimeoutMs`) and retried with backoff and jitter on lock_not_available / deadlock, at most
 * `ddlAttempts` times; a step that still cannot get its lock gives up for this run, says so in the
 * report (`deferred`, `lockTimeouts`) and the log, and the next run tries again:
 * - **create**: `CREATE TABLE outbox_event_pH (LIKE outbox_event …, CHECK (<exactly the partition
 *   constraint>))` — a new table nobody else uses. Because of that CHECK, ATTACH proves the table
 *   fits its range without scanning it (PostgreSQL: "partition constraint … is implied by existing
 *   constraints").
 * - **attach**: SHARE UPDATE EXCLUSIVE on `outbox_event_published` (does not conflict with the
 *   relay's marks or with readers), ACCESS EXCLUSIVE on the new table and on
 *   `outbox_event_published_default`, which ATTACH must scan. That default holds only rows marked
 *   in an hour that had no partition yet (none while maintenance keeps up; a mark never fails for
 *   want of a partition). Up to `purgeBatchSize` such rows of the hour are moved into the new
 *   table inside the attach transaction, found through an index on published_at; more than that
 *   (after an outage of maintenance) are first moved in batches with no strong lock — out of
 *   sight of queries on outbox_event until the attach succeeds — and rows of hours past retention
 *   are deleted the same way beforehand, so what runs under the lock reads an empty or small
 *   table. Hours are created from one hour back to `hoursAhead` ahead, and for every hour that
 *   still has rows in the default.
 * - **detach, then drop** (hours past `retentionHours`): DETACH takes ACCESS EXCLUSIVE on
 *   `outbox_event_published` — the relay's marks and readers of published history wait at most
 *   `lockTimeoutMs` per attempt, the API never. `DETACH … CONCURRENTLY` would avoid even that, but PostgreSQL
 *   refuses it while the table has a default partition ("cannot detach partitions concurrently
 *   when a default partition exists", checked on 15), and the default is what keeps a mark from
 *   ever failing for want of a partition. The DROP runs in a second transaction and locks only
 *   the detached table. A table left detached or unattached by an interrupted run is dropped or
 *   attached by the next.
 *
 * A long reader of `outbox_event` (ACCESS SHARE on every partition) therefore delays only this
 * maintenance, which times out, reports it and comes back; nothing queues behind one of its lock
 * requests for longer than `lockTimeoutMs`.
 *
 * ## Purges
 * Each in batches of `purgeBatchSize` rows per statement (`for update skip locked`: never waits
 * for a row someone is writing), at most `purgeMaxBatches` statements per table per run:
 * idempotency keys older than `idempotencyTtlHours` (the API replays a key for 24 h),
 * `relay_member` rows whose lease ended more than `memberRetentionHours` ago, and DEAD/SKIPPED
 * outbox rows created more than `deadRetentionHours` ago — except a DEAD row with a PENDING event
 * of its product behind it: deleting it would silently release events an operator has to decide
 * about (requeue or skip), so it is kept and counted (`deadEventsKept`).
 *
 * ## Clock and concurrency
 * "Now", hour boundaries and every cutoff come from the database (`select now()` once per run);
 * `run({ now })` overrides it for tests. Only one relay runs maintenance at a time: a session-level
 * `pg_try_advisory_lock` on the connection the run uses (never held inside a DDL transaction); a
 * relay that does not get it skips the run (`ran: false`). Each step is independent: one that
 * fails is logged and reported, and the others still run.
 */

export interface MaintenanceSettings {
  /** Published partitions whose hour ended longer ago than this are dropped. */
  retentionHours: number;
  /** Hourly partitions exist this many hours ahead of the database clock. */
  hoursAhead: number;
  /** `SET LOCAL lock_timeout` of every DDL and purge transaction. */
  lockTimeoutMs: number;
  /** Attempts per statement that cannot get its lock before the step gives up for this run. */
  ddlAttempts: number;
  /** Backoff between those attempts: exponential from base, capped, with jitter. */
  retryBaseMs: number;
  retryMaxMs: number;
  /** Rows per purge (or move) statement. */
  purgeBatchSize: number;
  /** Statements per table per run. */
  purgeMaxBatches: number;
  /** Idempotency keys are replayed this long (the API's window), then purged. */
  idempotencyTtlHours: number;
  /** relay_member rows whose lease ended longer ago than this are purged. */
  memberRetentionHours: number;
  /** DEAD and SKIPPED outbox rows created longer ago than this are purged. */
  deadRetentionHours: number;
}

export const DEFAULT_MAINTENANCE_SETTINGS: Readonly<MaintenanceSettings> = {
  retentionHours: 168,
  hoursAhead: 24,
  lockTimeoutMs: 200,
  ddlAttempts: 5,
  retryBaseMs: 100,
  retryMaxMs: 2_000,
  purgeBatchSize: 1_000,
  purgeMaxBatches: 50,
  idempotencyTtlHours: 24,
  memberRetentionHours: 1,
  deadRetentionHours: 720,
};

/** In the order a run takes them. */
export const MAINTENANCE_STEPS = [
  'publishedDefault',
  'createPartitions',
  'dropPartitions',
  'idempotencyKeys',
  'relayMembers',
  'deadEvents',
] as const;
export type MaintenanceStep = (typeof MAINTENANCE_STEPS)[number];

export interface MaintenanceReport {
  /** False when another relay holds the maintenance lock (or no connection was available). */
  ran: boolean;
  /** The database clock the run used. */
  now?: Date;
  created: string[];
  dropped: string[];
  /** Published rows moved from outbox_event_published_default into their hour's partition. */
  movedFromDefault: number;
  purged: {
    idempotencyKeys: number;
    relayMembers: number;
    deadEvents: number;
    skippedEvents: number;
    /** Published rows past retention deleted from outbox_event_published_default. */
    publishedDefault: number;
  };
  /** DEAD rows past deadRetentionHours kept because a PENDING event of their product waits behind. */
  deadEventsKept: number;
  /** lock_not_available (or deadlock) errors met, each followed by a retry or by giving up. */
  lockTimeouts: number;
  /** Statements given up on for this run because their lock was not available. */
  deferred: string[];
  /** Steps that failed for another reason. */
  failed: { step: MaintenanceStep | 'connect'; error: string }[];
  durationMs: number;
}

/** A statement that did not get its lock within `lockTimeoutMs` in any of its attempts. */
export class LockUnavailableError extends Error {
  constructor(
    readonly what: string,
    readonly attempts: number,
  ) {
    super(`${what}: lock not available after ${attempts} attempts`);
    this.name = 'LockUnavailableError';
  }
}

/** lock_not_available (lock_timeout) or deadlock_detected: worth another try later. */
export const isLockError = (err: unknown): boolean => {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '55P03' || code === '40P01';
};

type Queryable = Pick<PoolClient, 'query'>;

export interface ShortTransactionOptions {
  lockTimeoutMs: number;
  attempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** Called on each lock error (before the retry or the give-up). */
  onLockError?: (attempt: number, err: unknown) => void;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `work` in its own transaction with `SET LOCAL lock_timeout`; on a lock error, rolls back,
 * waits (exponential backoff with jitter) and tries again, at most `attempts` times in all.
 * @throws LockUnavailableError when every attempt hit a lock error; any other error at once.
 */
export async function inShortTransaction<T>(
  client: Queryable,
  what: string,
  work: (client: Queryable) => Promise<T>,
  options: ShortTransactionOptions,
): Promise<T> {
  const lockTimeout = Math.max(1, Math.floor(options.lockTimeoutMs));
  for (let attempt = 1; ; attempt++) {
    await client.query('begin');
    try {
      await client.query(`set local lock_timeout = ${lockTimeout}`);
      const result = await work(client);
      await client.query('commit');
      return result;
    } catch (err) {
      await client.query('rollback').catch(() => undefined);
      if (!isLockError(err)) throw err;
      options.onLockError?.(attempt, err);
      if (attempt >= options.attempts) throw new LockUnavailableError(what, attempt);
      await (options.sleep ?? defaultSleep)(backoffMs(attempt, options.retryBaseMs, options.retryMaxMs));
    }
  }
}

/** The same key the relays' earlier partition maintenance took, so old and new relays never maintain at once. */
const LOCK_KEY = 'shopstream.outbox_retention';

const COLUMNS = `id, seq, aggregate_type, aggregate_id, aggregate_version, event_type, topic, shard, payload,
  headers, status, attempts, next_attempt_at, last_error, created_at, published_at, kafka_partition, kafka_offset`;

const ident = (name: string): string => {
  if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`unexpected table name ${name}`);
  return `"${name}"`;
};
const literal = (d: Date): string => `'${d.toISOString()}'`;

/** Rows of [from, to) out of the published default into `table`: at most `limit` (null: all). */
const moveSql = (table: string) =>
  `with moved as (
     delete from outbox_event_published_default
     where ctid = any(array(select ctid from outbox_event_published_default
                            where published_at >= $1 and published_at < $2 limit $3))
     returning ${COLUMNS})
   insert into ${ident(table)} (${COLUMNS}) select ${COLUMNS} from moved`;

/**
 * A table for the hour [from, to), not yet attached. Its CHECK is exactly the partition constraint
 * PostgreSQL derives for it (the root's list bound, then the hourly range), so ATTACH proves the
 * table fits without scanning it ("partition constraint … is implied by existing constraints").
 */
export const createPartitionTableSql = (name: string, from: Date, to: Date): string =>
  `create table if not exists ${ident(name)} (like outbox_event including defaults including constraints,
     constraint ${ident(`${name}_range`)} check (
       (published_at is null) is not null and (published_at is null) = false
       and published_at is not null and published_at >= ${literal(from)} and published_at < ${literal(to)}))`;

export const attachPartitionSql = (name: string, from: Date, to: Date): string =>
  `alter table outbox_event_published attach partition ${ident(name)}
   for values from (${literal(from)}) to (${literal(to)})`;

function emptyReport(): MaintenanceReport {
  return {
    ran: false,
    created: [],
    dropped: [],
    movedFromDefault: 0,
    purged: { idempotencyKeys: 0, relayMembers: 0, deadEvents: 0, skippedEvents: 0, publishedDefault: 0 },
    deadEventsKept: 0,
    lockTimeouts: 0,
    deferred: [],
    failed: [],
    durationMs: 0,
  };
}

/** PostgreSQL's text for a timestamptz in UTC ("2026-11-29 06:00:00+00") as a Date. */
function parseUtcTimestamp(text: string): Date | undefined {
  const m = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d+)?)([+-]\d{2})(?::?(\d{2}))?$/.exec(text);
  if (!m) return undefined;
  const d = new Date(`${m[1]}T${m[2]}${m[3]}:${m[4] ?? '00'}`);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

export class OutboxMaintenance {
  readonly settings: Readonly<MaintenanceSettings>;

  constructor(
    private readonly pool: Pool,
    private readonly log: Logger,
    settings: Partial<MaintenanceSettings> = {},
  ) {
    const merged = { ...DEFAULT_MAINTENANCE_SETTINGS };
    for (const [key, value] of Object.entries(settings) as [keyof MaintenanceSettings, unknown][]) {
      if (value === undefined) continue;
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
        throw new Error(`outbox maintenance: ${key} must be a non-negative number, got ${String(value)}`);
      merged[key] = value;
    }
    if (merged.ddlAttempts < 1 || merged.purgeBatchSize < 1 || merged.lockTimeoutMs < 1)
      throw new Error('outbox maintenance: ddlAttempts, purgeBatchSize and lockTimeoutMs must be at least 1');
    this.settings = merged;
  }

  /**
   * One maintenance run: partitions, then purges, each step independent. Never throws: what went
   * wrong is in the report (and the log). Bounded: every statement has a lock timeout and a bounded
   * number of attempts, every purge a bounded number of batches.
   */
  async run(options: { now?: Date; steps?: readonly MaintenanceStep[] } = {}): Promise<MaintenanceReport> {
    const started = performance.now();
    const report = emptyReport();
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      report.failed.push({ step: 'connect', error: (err as Error).message });
      this.log.warn({ err }, 'outbox maintenance: no database connection, skipping this run');
      report.durationMs = Math.round(performance.now() - started);
      return report;
    }
    // A checked-out client has no 'error' listener: a connection the server ends while this run
    // sleeps between attempts must not become an uncaught exception.
    let broken: Error | undefined;
    const onError = (err: Error) => (broken = err);
    client.on('error', onError);
    let locked = false;
    try {
      const { rows } = await client.query<{ locked: boolean; now: Date }>(
        'select pg_try_advisory_lock(hashtext($1)) as locked, now() as now',
        [LOCK_KEY],
      );
      locked = rows[0]?.locked === true;
      if (!locked) {
        this.log.debug('outbox maintenance: another relay is running it');
        return report;
      }
      report.ran = true;
      const now = options.now ?? rows[0]!.now;
      report.now = now;
      const run = new MaintenanceRun(client, this.settings, now, report);
      for (const step of options.steps ?? MAINTENANCE_STEPS) {
        try {
          await run.step(step);
        } catch (err) {
          if (err instanceof LockUnavailableError) {
            report.deferred.push(err.what);
          } else {
            report.failed.push({ step, error: (err as Error).message });
            this.log.error({ err, step }, 'outbox maintenance step failed');
          }
        }
      }
    } catch (err) {
      broken ??= err as Error;
      report.failed.push({ step: 'connect', error: (err as Error).message });
      this.log.warn({ err }, 'outbox maintenance: could not take its lock');
    } finally {
      if (locked && !broken) {
        await client
          .query('select pg_advisory_unlock(hashtext($1))', [LOCK_KEY])
          .catch((err: Error) => (broken = err));
      }
      client.off('error', onError);
      // A broken connection is destroyed (the server drops its advisory lock with the session).
      client.release(broken);
      report.durationMs = Math.round(performance.now() - started);
    }
    this.logReport(report);
    return report;
  }

  private logReport(report: MaintenanceReport): void {
    if (report.deferred.length) {
      this.log.warn(
        { deferred: report.deferred, lockTimeouts: report.lockTimeouts, durationMs: report.durationMs },
        'outbox maintenance could not get a lock in time; it retries on the next run',
      );
    }
    const p = report.purged;
    const purged = p.idempotencyKeys + p.relayMembers + p.deadEvents + p.skippedEvents + p.publishedDefault;
    if (report.created.length || report.dropped.length || report.movedFromDefault || purged) {
      this.log.info(
        {
          created: report.created,
          dropped: report.dropped,
          movedFromDefault: report.movedFromDefault,
          purged: p,
          deadEventsKept: report.deadEventsKept,
          durationMs: report.durationMs,
        },
        'outbox maintained',
      );
    }
  }
}

/** The state of one run: its connection, clock and report. */
class MaintenanceRun {
  constructor(
    private readonly client: PoolClient,
    private readonly settings: Readonly<MaintenanceSettings>,
    private readonly now: Date,
    private readonly report: MaintenanceReport,
  ) {}

  async step(step: MaintenanceStep): Promise<void> {
    const s = this.settings;
    const ago = (hours: number) => new Date(this.now.getTime() - hours * HOUR_MS);
    switch (step) {
      case 'publishedDefault':
        this.report.purged.publishedDefault += await this.purge(
          'purge expired rows of outbox_event_published_default',
          `delete from outbox_event_published_default
           where ctid = any(array(select ctid from outbox_event_published_default
                                  where published_at < $1 limit $2))`,
          [ago(s.retentionHours)],
        );
        return;
      case 'createPartitions':
        return this.createPartitions();
      case 'dropPartitions':
        return this.dropPartitions();
      case 'idempotencyKeys':
        this.report.purged.idempotencyKeys += await this.purge(
          'purge expired idempotency keys',
          `delete from idempotency_key where (seller_id, key) in (
             select seller_id, key from idempotency_key where created_at < $1
             limit $2 for update skip locked)`,
          [ago(s.idempotencyTtlHours)],
        );
        return;
      case 'relayMembers':
        this.report.purged.relayMembers += await this.purge(
          'purge stale relay members',
          `delete from relay_member where owner in (
             select owner from relay_member where lease_until < $1 limit $2 for update skip locked)`,
          [ago(s.memberRetentionHours)],
        );
        return;
      case 'deadEvents':
        return this.purgeDeadEvents(ago(s.deadRetentionHours));
    }
  }

  private tx<T>(what: string, work: (client: Queryable) => Promise<T>): Promise<T> {
    return inShortTransaction(this.client, what, work, {
      lockTimeoutMs: this.settings.lockTimeoutMs,
      attempts: this.settings.ddlAttempts,
      retryBaseMs: this.settings.retryBaseMs,
      retryMaxMs: this.settings.retryMaxMs,
      onLockError: () => void this.report.lockTimeouts++,
    });
  }

  /** Repeats a `$2`-limited delete until a batch comes back short, at most purgeMaxBatches times. */
  private async purge(what: string, sql: string, params: unknown[]): Promise<number> {
    const batch = this.settings.purgeBatchSize;
    let total = 0;
    for (let i = 0; i < this.settings.purgeMaxBatches; i++) {
      const n = await this.tx(what, async (c) => (await c.query(sql, [...params, batch])).rowCount ?? 0);
      total += n;
      if (n < batch) break;
    }
    return total;
  }

  private async purgeDeadEvents(cutoff: Date): Promise<void> {
    const batch = this.settings.purgeBatchSize;
    for (let i = 0; i < this.settings.purgeMaxBatches; i++) {
      const { dead, skipped } = await this.tx('purge old DEAD/SKIPPED outbox rows', async (c) => {
        const { rows } = await c.query<{ dead: number; skipped: number }>(
          `with gone as (
             delete from outbox_event_unpublished where id in (
               select d.id from outbox_event_unpublished d
               where d.status in ('DEAD', 'SKIPPED') and d.created_at < $1
                 and (d.status = 'SKIPPED' or not exists (
                   select 1 from outbox_event_unpublished later
                   where later.aggregate_id = d.aggregate_id and later.seq > d.seq and later.status = 'PENDING'))
               limit $2 for update of d skip locked)
             and status in ('DEAD', 'SKIPPED')
             returning status)
           select count(*) filter (where status = 'DEAD')::int as dead,
                  count(*) filter (where status = 'SKIPPED')::int as skipped
           from gone`,
          [cutoff, batch],
        );
        return rows[0] ?? { dead: 0, skipped: 0 };
      });
      this.report.purged.deadEvents += dead;
      this.report.purged.skippedEvents += skipped;
      if (dead + skipped < batch) break;
    }
    this.report.deadEventsKept = await this.tx('count old DEAD outbox rows', async (c) => {
      const { rows } = await c.query<{ n: number }>(
        `select count(*)::int as n from outbox_event_unpublished where status = 'DEAD' and created_at < $1`,
        [cutoff],
      );
      return rows[0]?.n ?? 0;
    });
  }

  /** Attached hourly partitions, leftover unattached ones, and the hours present in the default. */
  private async partitionState(): Promise<PartitionState> {
    return this.tx('read outbox partitions', async (c) => {
      await c.query(`set local timezone = 'UTC'`);
      const attached = await c.query<{ name: string; bound: string }>(
        `select c.relname as name, pg_get_expr(c.relpartbound, c.oid) as bound
         from pg_inherits i join pg_class c on c.oid = i.inhrelid
         where i.inhparent = 'outbox_event_published'::regclass`,
      );
      const detached = await c.query<{ name: string }>(
        `select c.relname as name from pg_class c
         where c.relkind = 'r' and not c.relispartition and c.relname ~ '^outbox_event_p[0-9]{10}$'
           and c.relnamespace = (select relnamespace from pg_class where oid = 'outbox_event'::regclass)`,
      );
      const hours = await c.query<{ hour: Date }>(
        `select distinct date_bin('1 hour', published_at, timestamptz '2000-01-01 00:00:00+00') as hour
         from outbox_event_published_default`,
      );
      const ranges = new Map<string, { from: Date; to: Date }>();
      for (const r of attached.rows) {
        const m = /FROM \('([^']+)'\) TO \('([^']+)'\)/.exec(r.bound);
        const from = m ? parseUtcTimestamp(m[1]!) : undefined;
        const to = m ? parseUtcTimestamp(m[2]!) : undefined;
        if (from && to) ranges.set(r.name, { from, to });
      }
      return {
        attached: ranges,
        detached: detached.rows.map((r) => r.name).filter((n) => hourOfPartition(n) !== undefined),
        defaultHours: hours.rows.map((r) => r.hour),
      };
    });
  }

  private plan(state: PartitionState) {
    return planPartitions(state, {
      now: this.now,
      hoursAhead: this.settings.hoursAhead,
      retentionHours: this.settings.retentionHours,
    });
  }

  private async createPartitions(): Promise<void> {
    const state = await this.partitionState();
    const inDefault = new Set(state.defaultHours.map((d) => d.getTime()));
    for (const from of this.plan(state).create) {
      const to = new Date(from.getTime() + HOUR_MS);
      const name = partitionName(from);
      try {
        await this.createPartition(name, from, to, {
          exists: state.detached.includes(name),
          hasRows: inDefault.has(from.getTime()),
        });
      } catch (err) {
        if (err instanceof LockUnavailableError) throw err; // the rest waits for the next run
        this.report.failed.push({ step: 'createPartitions', error: `${name}: ${(err as Error).message}` });
      }
    }
  }

  private async createPartition(
    name: string,
    from: Date,
    to: Date,
    { exists, hasRows }: { exists: boolean; hasRows: boolean },
  ): Promise<void> {
    if (!exists) await this.tx(`create ${name}`, (c) => c.query(createPartitionTableSql(name, from, to)));
    const batch = this.settings.purgeBatchSize;
    if (hasRows && (await this.rowsInDefault(from, to, batch + 1)) > batch) {
      // More than a batch: drain them out of the default without a strong lock, a batch at a time
      // (they are out of sight of queries on outbox_event until the attach below), so that what
      // the attach moves and scans under its lock stays small.
      let drained = false;
      for (let i = 0; i < this.settings.purgeMaxBatches && !drained; i++) {
        const n = await this.tx(
          `move rows of ${name} out of outbox_event_published_default`,
          async (c) => (await c.query(moveSql(name), [from, to, batch])).rowCount ?? 0,
        );
        this.report.movedFromDefault += n;
        drained = n < batch;
      }
      if (!drained) {
        this.report.deferred.push(`attach ${name}: rows of its hour still in outbox_event_published_default`);
        return;
      }
    }
    const moved = await this.tx(`attach ${name}`, async (c) => {
      await c.query('lock table outbox_event_published in share update exclusive mode');
      await c.query('lock table outbox_event_published_default in access exclusive mode');
      // At most a batch of rows of this hour (normally none): moved under the lock, so none can
      // arrive between the move and the attach.
      const late = (await c.query(moveSql(name), [from, to, null])).rowCount ?? 0;
      await c.query(attachPartitionSql(name, from, to));
      return late;
    });
    this.report.movedFromDefault += moved;
    this.report.created.push(name);
  }

  /** Rows of [from, to) in the published default, counted up to `limit` (through its index). */
  private async rowsInDefault(from: Date, to: Date, limit: number): Promise<number> {
    return this.tx('count rows in outbox_event_published_default', async (c) => {
      const { rows } = await c.query<{ n: number }>(
        `select count(*)::int as n from (select 1 from outbox_event_published_default
                                         where published_at >= $1 and published_at < $2 limit $3) as r`,
        [from, to, limit],
      );
      return rows[0]?.n ?? 0;
    });
  }

  private async dropPartitions(): Promise<void> {
    const plan = this.plan(await this.partitionState());
    for (const name of plan.detach) {
      await this.tx(`detach ${name}`, (c) =>
        c.query(`alter table outbox_event_published detach partition ${ident(name)}`),
      );
      await this.dropTable(name);
    }
    for (const name of plan.drop) await this.dropTable(name);
  }

  private async dropTable(name: string): Promise<void> {
    await this.tx(`drop ${name}`, (c) => c.query(`drop table if exists ${ident(name)}`));
    this.report.dropped.push(name);
  }
}
