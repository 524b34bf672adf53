import type { Pool } from 'pg';
import { OUTBOX_STATUSES } from '@shopstream/shared';
import type { OutboxStatus } from '@shopstream/shared';

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
 */
export class OutboxAdmin {
  constructor(private readonly pool: Pool) {}

  async list(filter: {
    status?: OutboxStatus;
    aggregateId?: string;
    limit?: number;
  }): Promise<OutboxRowSummary[]> {
    if (filter.status && !OUTBOX_STATUSES.includes(filter.status)) {
      throw new OutboxAdminError(`unknown status ${filter.status}: one of ${OUTBOX_STATUSES.join(', ')}`);
    }
    const { rows } = await this.pool.query(
      `select ${columns} from outbox_event
       where ($1::text is null or status = $1) and ($2::uuid is null or aggregate_id = $2)
       order by seq limit $3`,
      [filter.status ?? null, filter.aggregateId ?? null, filter.limit ?? 100],
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

  /** DEAD → PENDING with attempts reset, due now. @returns the ids requeued. */
  async requeue(target: { id: string } | { all: true }): Promise<string[]> {
    const { rows } = await this.pool.query<{ id: string }>(
      `update outbox_event set status = 'PENDING', attempts = 0, next_attempt_at = now()
       where published_at is null and status = 'DEAD' and ($1::uuid is null or id = $1)
       returning id`,
      ['id' in target ? target.id : null],
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
