import type { Pool } from 'pg';
import { firstDeadPerProductSql } from '@shopstream/shared';
import type { OwnedShards } from './shard-ownership.js';

/** An outbox row as the relay publishes it. */
export interface PendingEvent {
  id: string;
  seq: string;
  shard: number;
  aggregateId: string;
  eventType: string;
  topic: string;
  /** The stored JSON text, sent as the record's value as it is (never parsed and written again). */
  payload: string;
  headers: Record<string, string>;
  attempts: number;
  createdAt: Date;
}

/** The outbox as one relay sees it (its own shards): what its gauges show. */
export interface Backlog {
  pending: number;
  blocked: number;
  dead: number;
  oldestPendingAgeSeconds: number;
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
   * The oldest due PENDING rows of the owned shards, in commit order. Fenced like every write: only
   * shards this relay holds at its epoch with an unexpired lease (by the database's clock), so a
   * relay that lost a shard, or whose lease lapsed while it was paused, claims nothing of it.
   * Per-product order holds across shards too: a row is skipped while an earlier row of its product
   * waits anywhere — DEAD, PENDING and not yet due, or PENDING in a shard this relay does not hold
   * (possible only if events of one product ever landed in two shards; then the other owner goes first).
   * That check is written as `status <> 'SKIPPED'` (the partition holds PENDING, DEAD and SKIPPED rows
   * only) so no partial index on status matches it: with statistics of a table that just filled up,
   * PostgreSQL otherwise ANDed the whole PENDING index into every probe, one per candidate row.
   * Products in `busy` (their events are being sent or are not settled yet) are skipped whole: none
   * of their events is claimed again, and none of their later ones overtakes them. The batch ends
   * where its payloads would pass `maxBytes` (one row at least), so large records cannot make a
   * batch of `limit` rows outgrow the relay's memory.
   */
  async claim(
    owned: OwnedShards,
    limit: number,
    busy: readonly string[] = [],
    maxBytes = Number.MAX_SAFE_INTEGER,
  ): Promise<PendingEvent[]> {
    if (owned.size === 0) return [];
    const [shards, epochs] = fence(owned);
    const { rows } = await this.pool.query<{
      id: string;
      seq: string;
      shard: number;
      aggregate_id: string;
      event_type: string;
      topic: string;
      payload: string;
      headers: Record<string, string>;
      attempts: number;
      created_at: Date;
    }>(
      `with held as (
         select s.shard from relay_shard s join unnest($2::int[], $3::bigint[]) as mine(shard, epoch)
           on s.shard = mine.shard and s.epoch = mine.epoch
         where s.owner = $1 and s.lease_until > now())
       select c.id, c.seq, c.shard, c.aggregate_id, c.event_type, c.topic, c.payload, c.headers, c.attempts, c.created_at
       from (
       select e.id, e.seq, e.shard, e.aggregate_id, e.event_type, e.topic, e.payload::text as payload, e.headers, e.attempts, e.created_at,
              sum(octet_length(e.payload::text)) over w as bytes_so_far, row_number() over w as n
       from outbox_event_unpublished e
       where e.status = 'PENDING' and e.shard = any(array(select shard from held)) and e.next_attempt_at <= now()
         and e.aggregate_id <> all($5::uuid[])
         and not exists (
           select 1 from outbox_event_unpublished b
           where b.aggregate_id = e.aggregate_id and b.seq < e.seq
             and b.status <> 'SKIPPED'
             and (b.status = 'DEAD' or b.next_attempt_at > now() or b.shard <> all(array(select shard from held))))
       window w as (order by e.seq)
       order by e.seq
       limit $4) c
       where c.n = 1 or c.bytes_so_far <= $6
       order by c.seq`,
      [this.owner, shards, epochs, limit, busy, maxBytes],
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
   * @returns the ids this relay was still entitled to mark.
   */
  async markPublished(owned: OwnedShards, published: PublishedEvent[]): Promise<Set<string>> {
    if (published.length === 0) return new Set();
    const [shards, epochs] = fence(owned);
    const { rows } = await this.pool.query<{ id: string }>(
      `with fence as (
         select s.shard from relay_shard s join unnest($2::int[], $3::bigint[]) as mine(shard, epoch)
           on s.shard = mine.shard and s.epoch = mine.epoch
         where s.owner = $1 for share of s)
       update outbox_event e
       set status = 'PUBLISHED', published_at = now(), kafka_partition = acked.partition, kafka_offset = acked.kafka_offset,
           last_error = null
       from unnest($4::uuid[], $5::int[], $6::bigint[]) as acked(id, partition, kafka_offset)
       where e.published_at is null and e.status = 'PENDING' and e.id = acked.id
         and e.shard in (select shard from fence)
       returning e.id`,
      [
        this.owner,
        shards,
        epochs,
        published.map((p) => p.id),
        published.map((p) => p.partition),
        published.map((p) => p.offset),
      ],
    );
    return new Set(rows.map((r) => r.id));
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

  /**
   * Gives `outbox_event_unpublished` column statistics if it never had any (a new database, whose
   * first burst arrives before autovacuum's next round). Without them PostgreSQL guesses 0.5 % of
   * the rows PENDING and plans the claim as a sort of every pending row and the mark as a scan of
   * them per acked id: seconds per statement, growing with the burst. ANALYZE samples the table
   * without blocking writers. @returns whether it ran.
   */
  async analyzeIfNeverAnalyzed(): Promise<boolean> {
    const { rows } = await this.pool.query<{ never: boolean }>(
      `select last_analyze is null and last_autoanalyze is null as never
       from pg_stat_user_tables where relid = 'outbox_event_unpublished'::regclass`,
    );
    if (!rows[0]?.never) return false;
    await this.pool.query('analyze outbox_event_unpublished');
    return true;
  }

  /**
   * Backlog of the owned shards from the unpublished partition only: cheap enough to poll. Blocked
   * rows (PENDING behind a DEAD row of their product) are counted apart from pending and left out
   * of the oldest-pending age: no relay can move them until a person requeues or skips.
   */
  async backlog(owned: OwnedShards): Promise<Backlog> {
    const { rows } = await this.pool.query<{
      pending: number;
      blocked: number;
      dead: number;
      oldest: number | null;
    }>(
      `with first_dead as (${firstDeadPerProductSql})
       select count(*) filter (where d.seq is null)::int as pending,
              count(*) filter (where d.seq is not null)::int as blocked,
              (select count(*)::int from outbox_event_unpublished
               where status = 'DEAD' and shard = any($1::int[])) as dead,
              extract(epoch from now() - min(e.created_at) filter (where d.seq is null))::float8 as oldest
       from outbox_event_unpublished e
       left join first_dead d on d.aggregate_id = e.aggregate_id and d.seq < e.seq
       where e.status = 'PENDING' and e.shard = any($1::int[])`,
      [[...owned.keys()]],
    );
    const r = rows[0];
    return {
      pending: r?.pending ?? 0,
      blocked: r?.blocked ?? 0,
      dead: r?.dead ?? 0,
      oldestPendingAgeSeconds: Math.max(0, r?.oldest ?? 0),
    };
  }
}
