import type { Pool } from 'pg';
import { ConfigError } from '@shopstream/shared';
import type { Logger } from '@shopstream/shared';

export interface OwnershipOptions {
  owner: string;
  shardCount: number;
  leaseMs: number;
}

/** Milliseconds on a monotonic clock (keeps counting while the process is stopped; never jumps). */
export const monotonicMs = (): number => performance.now();

/** Shards this relay holds, each with the epoch it took it at: the fencing token for its writes. */
export type OwnedShards = ReadonlyMap<number, string>;

/**
 * Shard ownership through `relay_shard` and `relay_member` (DESIGN §2, §4). A heartbeat renews this
 * relay's member lease and shard leases, takes over free or expired shards up to its fair share
 * (epoch + 1: anything the previous owner still tries to write is fenced off), and notes how many
 * shards it holds beyond its share; `releaseExtras` gives those back, and is called by the relay loop
 * between batches so no batch is cut off mid-way.
 *
 * This object is the one owner of the shard map: heartbeat, release and drop run one at a time, so
 * a heartbeat that read the map before a release cannot write the released shard back into it.
 * It also knows, on a monotonic clock, until when the leases it last renewed are certainly valid
 * (measured from before the renewing statement was sent), which is what self-fencing checks.
 */
export class ShardOwnership {
  private owned = new Map<number, string>();
  private fairShare = 0;
  /** Extras to give back once their rows in flight are settled; claimed no more meanwhile. */
  private leaving = new Set<number>();
  private leaseValidUntil = -Infinity;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly pool: Pool,
    private readonly options: OwnershipOptions,
    private readonly log: Logger,
  ) {}

  get shards(): OwnedShards {
    return this.owned;
  }

  /** The shards to claim rows of: the owned ones except extras on their way out. */
  get claimable(): OwnedShards {
    if (this.leaving.size === 0) return this.owned;
    return new Map([...this.owned].filter(([shard]) => !this.leaving.has(shard)));
  }

  get share(): number {
    return this.fairShare;
  }

  /** Milliseconds (monotonic) the current leases are still certainly ours; ≤ 0 once they may have lapsed. */
  leaseRemainingMs(now = monotonicMs()): number {
    return this.owned.size === 0 ? 0 : this.leaseValidUntil - now;
  }

  /** Runs `task` after every earlier heartbeat/release/drop has finished. */
  private serialized<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Creates the shard rows if this is the first relay ever; harmless afterwards.
   * @throws ConfigError if the table has shards beyond the shard count (nobody would own them).
   */
  async ensureShardRows(): Promise<void> {
    await this.pool.query(
      `insert into relay_shard (shard) select s from generate_series(0, $1::int - 1) s on conflict do nothing`,
      [this.options.shardCount],
    );
    const { rows } = await this.pool.query<{ beyond: number }>(
      `select count(*)::int as beyond from relay_shard where shard >= $1`,
      [this.options.shardCount],
    );
    if ((rows[0]?.beyond ?? 0) > 0) {
      throw new ConfigError([
        `SHARD_COUNT: relay_shard has ${rows[0]!.beyond} shard row(s) at or beyond shard count ${this.options.shardCount}; their events would never be published`,
      ]);
    }
  }

  /** Renews leases and takes free shards up to the fair share; returns the shards now held. */
  heartbeat(): Promise<OwnedShards> {
    return this.serialized(() => this.renewAndTake());
  }

  private async renewAndTake(): Promise<OwnedShards> {
    const { owner, leaseMs, shardCount } = this.options;
    const startedAt = monotonicMs();
    await this.pool.query(
      `insert into relay_member (owner, lease_until) values ($1, now() + $2 * interval '1 millisecond')
       on conflict (owner) do update set lease_until = excluded.lease_until`,
      [owner, leaseMs],
    );
    const { rows: live } = await this.pool.query<{ live: number }>(
      `select count(*)::int as live from relay_member where lease_until > now()`,
    );
    const liveRelays = Math.max(1, live[0]?.live ?? 1);
    this.fairShare = Math.ceil(shardCount / liveRelays);

    const renewed = await this.pool.query<{ shard: number; epoch: string }>(
      `update relay_shard s set lease_until = now() + $2 * interval '1 millisecond'
       from unnest($3::int[], $4::bigint[]) as mine(shard, epoch)
       where s.owner = $1 and s.shard = mine.shard and s.epoch = mine.epoch
       returning s.shard, s.epoch`,
      [owner, leaseMs, [...this.owned.keys()], [...this.owned.values()]],
    );
    const next = new Map<number, string>(renewed.rows.map((r) => [r.shard, r.epoch]));
    for (const [shard] of this.owned) {
      if (!next.has(shard)) this.log.warn({ shard }, 'shard lost: another relay took it over');
    }

    const wanted = this.fairShare - next.size;
    if (wanted > 0) {
      const taken = await this.pool.query<{ shard: number; epoch: string; previous: string | null }>(
        `update relay_shard s set owner = $1, epoch = s.epoch + 1, lease_until = now() + $2 * interval '1 millisecond'
         from (select shard, owner from relay_shard
               where owner is null or lease_until is null or lease_until < now()
               order by shard for update skip locked limit $3) free
         where s.shard = free.shard
         returning s.shard, s.epoch, free.owner as previous`,
        [owner, leaseMs, wanted],
      );
      for (const r of taken.rows) {
        next.set(r.shard, r.epoch);
        this.log.info({ shard: r.shard, epoch: r.epoch, previousOwner: r.previous }, 'shard taken');
      }
    }
    this.owned = next;
    this.leaseValidUntil = startedAt + leaseMs;
    return this.owned;
  }

  /**
   * Gives back shards held beyond the fair share (a new relay joined), highest numbers first. One
   * with rows in flight (`busy`) is not given back yet — its next owner would publish them again —
   * but claimed no more, so it goes at a later call, once its rows are settled.
   */
  releaseExtras(busy: ReadonlySet<number> = new Set()): Promise<void> {
    return this.serialized(async () => {
      const extra = this.owned.size - this.fairShare;
      const chosen = extra > 0 ? [...this.owned.keys()].sort((a, b) => b - a).slice(0, extra) : [];
      this.leaving = new Set(chosen.filter((s) => busy.has(s)));
      await this.release(chosen.filter((s) => !busy.has(s)));
    });
  }

  /** Gives back every shard and leaves the member list, so peers take over at once (SIGTERM). */
  releaseAll(): Promise<void> {
    return this.serialized(async () => {
      await this.release([...this.owned.keys()]);
      await this.pool.query('delete from relay_member where owner = $1', [this.options.owner]);
    });
  }

  /**
   * Forgets shards a fenced write proved lost (another relay holds them at a newer epoch), at once
   * rather than at the next heartbeat, so the loop does not claim and send them again meanwhile.
   */
  drop(shards: Iterable<number>, epochs: OwnedShards): Promise<void> {
    return this.serialized(async () => {
      const lost = [...shards].filter((s) => this.owned.get(s) === epochs.get(s));
      for (const shard of lost) this.owned.delete(shard);
      if (lost.length > 0)
        this.log.warn({ shards: lost }, 'shards dropped: a fenced write showed another relay holds them');
    });
  }

  private async release(shards: number[]): Promise<void> {
    if (shards.length === 0) return;
    await this.pool.query(
      `update relay_shard set owner = null, lease_until = null where owner = $1 and shard = any($2::int[])`,
      [this.options.owner, shards],
    );
    for (const shard of shards) {
      this.owned.delete(shard);
      this.leaving.delete(shard);
    }
    this.log.info({ shards }, 'shards released');
  }
}
