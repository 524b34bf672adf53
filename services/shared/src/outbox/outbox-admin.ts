import { OUTBOX_STATUSES } from '../db/entities/index.js';
import type { OutboxStatus } from '../db/entities/index.js';
import { blockedByDeadSql } from './backlog-sql.js';
import { ERROR_CLASSES, errorClassSql, isErrorClass } from './error-class.js';
import type { ErrorClass } from './error-class.js';

/**
 * The part of a `pg.Pool` the admin uses. Structural, so @shopstream/shared needs no `pg`
 * dependency of its own and each caller passes the pool it already has.
 */
export interface SqlClient {
  query<R extends Record<string, unknown> = Record<string, unknown>>(
    text: string,
    values?: unknown[],
  ): Promise<{ rows: R[]; rowCount: number | null }>;
}

export interface OutboxRowSummary {
  id: string;
  seq: string;
  status: OutboxStatus;
  eventType: string;
  aggregateId: string;
  aggregateVersion: number;
  shard: number;
  attempts: number;
  lastError: string | null;
  createdAt: string;
  publishedAt: string | null;
}

export interface OutboxOverview {
  counts: Record<OutboxStatus, number>;
  /** Age of the oldest PENDING row; null when nothing is pending. */
  oldestPendingAgeSeconds: number | null;
  /** Relays whose heartbeat lease has not expired (`relay_member`). */
  liveRelays: { owner: string; leaseUntil: string }[];
}

/**
 * The unpublished backlog with blocked rows apart: `pending` rows a relay can publish, `blocked`
 * PENDING rows held behind a DEAD row of their product (blockedByDeadSql), which wait for an
 * operator, not for more relays.
 */
export interface OutboxBacklog {
  pending: number;
  blocked: number;
  /** Age of the oldest pending (not blocked) row; null when there is none. */
  oldestPendingAgeSeconds: number | null;
  /** Age of the oldest blocked row; null when there is none. */
  oldestBlockedAgeSeconds: number | null;
}

export interface OutboxListFilter {
  status?: OutboxStatus;
  aggregateId?: string;
  /** Only rows whose last_error is of this class (errorClassOf). */
  errorClass?: ErrorClass;
  limit?: number;
  afterSeq?: string;
}

/** Statuses whose rows are never published: they all live where `published_at is null`. */
const UNPUBLISHED: readonly OutboxStatus[] = ['PENDING', 'DEAD', 'SKIPPED'];

const columns = `id, seq, status, event_type, aggregate_id, aggregate_version, shard, attempts, last_error, created_at, published_at`;
const toSummary = (r: Record<string, unknown>): OutboxRowSummary => ({
  id: r.id as string,
  seq: r.seq as string,
  status: r.status as OutboxStatus,
  eventType: r.event_type as string,
  aggregateId: r.aggregate_id as string,
  aggregateVersion: r.aggregate_version as number,
  shard: r.shard as number,
  attempts: r.attempts as number,
  lastError: (r.last_error as string | null) ?? null,
  createdAt: (r.created_at as Date).toISOString(),
  publishedAt: r.published_at ? (r.published_at as Date).toISOString() : null,
});

export class OutboxAdminError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutboxAdminError';
  }
}

/**
 * Operator actions on the outbox: look at rows, requeue DEAD ones (they are published again, in
 * order, by whichever relay owns their shard) or skip a DEAD one so its product's later events flow.
 * Shared by the CLI and the API's admin page, so both change rows with the same statements.
 */
export class OutboxAdmin {
  constructor(private readonly pool: SqlClient) {}

  /**
   * Rows in commit order; `afterSeq` continues after the last row of a previous page (keyset, so a
   * page stays cheap however deep it is).
   * @throws OutboxAdminError for an unknown status or error class.
   */
  async list(filter: OutboxListFilter): Promise<OutboxRowSummary[]> {
    if (filter.status && !OUTBOX_STATUSES.includes(filter.status)) {
      throw new OutboxAdminError(`unknown status ${filter.status}: one of ${OUTBOX_STATUSES.join(', ')}`);
    }
    checkErrorClass(filter.errorClass);
    // Unpublished rows sit apart from the published history (DESIGN §2): saying so in the text
    // lets the planner skip every published partition.
    const unpublishedOnly = filter.status !== undefined && UNPUBLISHED.includes(filter.status);
    const { rows } = await this.pool.query(
      `select ${columns} from outbox_event
       where ($1::text is null or status = $1) and ($2::uuid is null or aggregate_id = $2)
         and ($4::bigint is null or seq > $4)
         and ($5::text is null or ${errorClassSql('last_error')} = $5)
         ${unpublishedOnly ? 'and published_at is null' : ''}
       order by seq limit $3`,
      [
        filter.status ?? null,
        filter.aggregateId ?? null,
        filter.limit ?? 100,
        filter.afterSeq ?? null,
        filter.errorClass ?? null,
      ],
    );
    return rows.map(toSummary);
  }

  async show(id: string): Promise<(OutboxRowSummary & { payload: unknown; headers: unknown }) | undefined> {
    const { rows } = await this.pool.query(
      `select ${columns}, payload, headers from outbox_event where id = $1`,
      [id],
    );
    const r = rows[0];
    return r ? { ...toSummary(r), payload: r.payload, headers: r.headers } : undefined;
  }

  /** Counts by status, the oldest pending age and the live relays: the pipeline at a glance. */
  async overview(): Promise<OutboxOverview> {
    const [counts, members] = await Promise.all([
      this.pool.query<{ status: OutboxStatus; n: number; oldest: number | null }>(
        `select status, count(*)::int as n,
                extract(epoch from now() - min(created_at))::float8 as oldest
         from outbox_event group by status`,
      ),
      this.pool.query<{ owner: string; lease_until: Date }>(
        `select owner, lease_until from relay_member where lease_until > now() order by owner`,
      ),
    ]);
    const byStatus = Object.fromEntries(OUTBOX_STATUSES.map((s) => [s, 0])) as Record<OutboxStatus, number>;
    let oldestPendingAgeSeconds: number | null = null;
    for (const r of counts.rows) {
      byStatus[r.status] = r.n;
      if (r.status === 'PENDING') oldestPendingAgeSeconds = Math.max(0, r.oldest ?? 0);
    }
    return {
      counts: byStatus,
      oldestPendingAgeSeconds,
      liveRelays: members.rows.map((m) => ({ owner: m.owner, leaseUntil: m.lease_until.toISOString() })),
    };
  }

  /**
   * The unpublished backlog, blocked rows apart. Two aggregates over the PENDING rows, one an anti
   * join and one a semi join with the products' DEAD rows (never a lookup per row): it costs the
   * size of the backlog, not of the outbox.
   */
  async backlog(): Promise<OutboxBacklog> {
    const part = (blocked: boolean) =>
      `select count(*)::int as n, extract(epoch from now() - min(e.created_at))::float8 as oldest
       from outbox_event_unpublished e where e.status = 'PENDING' and ${blocked ? '' : 'not '}${blockedByDeadSql('e')}`;
    const { rows } = await this.pool.query<{
      pending: number;
      blocked: number;
      oldest_pending: number | null;
      oldest_blocked: number | null;
    }>(
      `select p.n as pending, p.oldest as oldest_pending, b.n as blocked, b.oldest as oldest_blocked
       from (${part(false)}) p, (${part(true)}) b`,
    );
    const r = rows[0];
    const age = (seconds: number | null | undefined) => (seconds == null ? null : Math.max(0, seconds));
    return {
      pending: r?.pending ?? 0,
      blocked: r?.blocked ?? 0,
      oldestPendingAgeSeconds: age(r?.oldest_pending),
      oldestBlockedAgeSeconds: age(r?.oldest_blocked),
    };
  }

  /** DEAD rows counted by error class (errorClassOf), every class present, zeros included. */
  async deadByErrorClass(): Promise<Record<ErrorClass, number>> {
    const { rows } = await this.pool.query<{ error_class: ErrorClass; n: number }>(
      `select ${errorClassSql('last_error')} as error_class, count(*)::int as n
       from outbox_event where published_at is null and status = 'DEAD' group by 1`,
    );
    const counts = Object.fromEntries(ERROR_CLASSES.map((c) => [c, 0])) as Record<ErrorClass, number>;
    for (const r of rows) counts[r.error_class] = r.n;
    return counts;
  }

  /**
   * DEAD → PENDING with attempts reset, due now: one row, or every DEAD row (of one error class).
   * @returns the ids requeued.
   * @throws OutboxAdminError when the one row is missing or not DEAD, or for an unknown class.
   */
  async requeue(target: { id: string } | { all: true; errorClass?: ErrorClass }): Promise<string[]> {
    const errorClass = 'all' in target ? target.errorClass : undefined;
    checkErrorClass(errorClass);
    const { rows } = await this.pool.query<{ id: string }>(
      `update outbox_event set status = 'PENDING', attempts = 0, next_attempt_at = now()
       where published_at is null and status = 'DEAD' and ($1::uuid is null or id = $1)
         and ($2::text is null or ${errorClassSql('last_error')} = $2)
       returning id`,
      ['id' in target ? target.id : null, errorClass ?? null],
    );
    if ('id' in target && rows.length === 0) await this.explainNotDead(target.id);
    return rows.map((r) => r.id);
  }

  /** DEAD → SKIPPED: never published, no longer blocks its product. */
  async skip(id: string): Promise<void> {
    const { rowCount } = await this.pool.query(
      `update outbox_event set status = 'SKIPPED' where published_at is null and status = 'DEAD' and id = $1`,
      [id],
    );
    if (!rowCount) await this.explainNotDead(id);
  }

  private async explainNotDead(id: string): Promise<never> {
    const row = await this.show(id);
    if (!row) throw new OutboxAdminError(`no outbox event ${id}`);
    throw new OutboxAdminError(`outbox event ${id} is ${row.status}, not DEAD`);
  }
}

function checkErrorClass(errorClass: string | undefined): void {
  if (errorClass !== undefined && !isErrorClass(errorClass)) {
    throw new OutboxAdminError(`unknown error class ${errorClass}: one of ${ERROR_CLASSES.join(', ')}`);
  }
}
