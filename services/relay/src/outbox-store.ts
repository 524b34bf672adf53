import type { Pool } from 'pg';
import type { OwnedShards } from './shard-ownership.js';

/** An outbox row as the relay publishes it. */
export interface PendingEvent {
  id: string;
  seq: string;
  shard: number;
  aggregateId: string;
  eventType: string;
  topic: string;
  payload: unknown;
  headers: Record<string, string>;
  attempts: number;
  createdAt: Date;
}

export interface PublishedEvent {
  id: string;
  partition: number;
  offset: string;
}

export interface FailedEvent {
  id: string;
  error: string;
  /** Milliseconds until the next attempt. */
  retryInMs: number;
}

/** Shards and epochs as two parallel arrays, the form the fenced statements join against. */
const fence = (owned: OwnedShards): [number[], string[]] => [[...owned.keys()], [...owned.values()]];

/**
 * The relay's SQL, written out because locking and fencing are the point (DESIGN §4). Every write
 * joins `relay_shard` on (shard, owner, epoch) and locks those rows FOR SHARE: a relay whose shard
 * was taken over (epoch moved on) changes nothing, and a takeover waits for an in-flight mark.
 */
export class OutboxStore {
  constructor(
    private readonly pool: Pool,
    private readonly owner: string,
  ) {}

  /**
   * The oldest due PENDING rows of the owned shards, in commit order, skipping every product that
   * has an earlier row still waiting (DEAD, or PENDING and not yet due): per-product order holds.
   */
  async claim(owned: OwnedShards, limit: number): Promise<PendingEvent[]> {
    if (owned.size === 0) return [];
    const { rows } = await this.pool.query<{
      id: string;
      seq: string;
      shard: number;
      aggregate_id: string;
      event_type: string;
      topic: string;
      payload: unknown;
      headers: Record<string, string>;
      attempts: number;
      created_at: Date;
    }>(
      `select e.id, e.seq, e.shard, e.aggregate_id, e.event_type, e.topic, e.payload, e.headers, e.attempts, e.created_at
       from outbox_event_unpublished e
       where e.status = 'PENDING' and e.shard = any($1::int[]) and e.next_attempt_at <= now()
         and not exists (
           select 1 from outbox_event_unpublished b
           where b.aggregate_id = e.aggregate_id and b.seq < e.seq
             and (b.status = 'DEAD' or (b.status = 'PENDING' and b.next_attempt_at > now())))
       order by e.seq
       limit $2`,
      [[...owned.keys()], limit],
    );
    return rows.map((r) => ({
      id: r.id,
      seq: r.seq,
      shard: r.shard,
      aggregateId: r.aggregate_id,
      eventType: r.event_type,
      topic: r.topic,
      payload: r.payload,
      headers: r.headers,
      attempts: r.attempts,
      createdAt: r.created_at,
    }));
  }

  /**
   * Marks acked rows PUBLISHED (moving them into their hourly partition) in one statement, fenced.
   * @returns how many rows this relay was still entitled to mark.
   */
  async markPublished(owned: OwnedShards, published: PublishedEvent[]): Promise<number> {
    if (published.length === 0) return 0;
    const [shards, epochs] = fence(owned);
    const result = await this.pool.query(
      `with fence as (
         select s.shard from relay_shard s join unnest($2::int[], $3::bigint[]) as mine(shard, epoch)
           on s.shard = mine.shard and s.epoch = mine.epoch
         where s.owner = $1 for share of s)
       update outbox_event e
       set status = 'PUBLISHED', published_at = now(), kafka_partition = acked.partition, kafka_offset = acked.kafka_offset,
           last_error = null
       from unnest($4::uuid[], $5::int[], $6::bigint[]) as acked(id, partition, kafka_offset)
       where e.published_at is null and e.status = 'PENDING' and e.id = acked.id
         and e.shard in (select shard from fence)`,
      [
        this.owner,
        shards,
        epochs,
        published.map((p) => p.id),
        published.map((p) => p.partition),
        published.map((p) => p.offset),
      ],
    );
    return result.rowCount ?? 0;
  }

  /**
   * Records failed attempts: attempts + 1, the next attempt after a backoff, the error; a row that
   * reaches `maxAttempts` becomes DEAD (and holds back later events of its product). Fenced.
   * @returns the ids that became DEAD.
   */
  async markFailed(owned: OwnedShards, failed: FailedEvent[], maxAttempts: number): Promise<string[]> {
    if (failed.length === 0) return [];
    const [shards, epochs] = fence(owned);
    const { rows } = await this.pool.query<{ id: string; status: string }>(
      `with fence as (
         select s.shard from relay_shard s join unnest($2::int[], $3::bigint[]) as mine(shard, epoch)
           on s.shard = mine.shard and s.epoch = mine.epoch
         where s.owner = $1 for share of s)
       update outbox_event e
       set attempts = e.attempts + 1,
           status = case when e.attempts + 1 >= $4 then 'DEAD' else 'PENDING' end,
           next_attempt_at = now() + f.retry_ms * interval '1 millisecond',
           last_error = left(f.error, 2000)
       from unnest($5::uuid[], $6::text[], $7::int[]) as f(id, error, retry_ms)
       where e.published_at is null and e.status = 'PENDING' and e.id = f.id
         and e.shard in (select shard from fence)
       returning e.id, e.status`,
      [
        this.owner,
        shards,
        epochs,
        maxAttempts,
        failed.map((f) => f.id),
        failed.map((f) => f.error),
        failed.map((f) => f.retryInMs),
      ],
    );
    return rows.filter((r) => r.status === 'DEAD').map((r) => r.id);
  }

  /** Backlog of the owned shards from the unpublished partition only: cheap enough to poll. */
  async backlog(
    owned: OwnedShards,
  ): Promise<{ pending: number; dead: number; oldestPendingAgeSeconds: number }> {
    const { rows } = await this.pool.query<{ pending: number; dead: number; oldest: number | null }>(
      `select count(*) filter (where status = 'PENDING')::int as pending,
              count(*) filter (where status = 'DEAD')::int as dead,
              extract(epoch from now() - min(created_at) filter (where status = 'PENDING'))::float8 as oldest
       from outbox_event_unpublished where shard = any($1::int[])`,
      [[...owned.keys()]],
    );
    const r = rows[0];
    return {
      pending: r?.pending ?? 0,
      dead: r?.dead ?? 0,
      oldestPendingAgeSeconds: Math.max(0, r?.oldest ?? 0),
    };
  }
}
