import type { Pool, PoolClient } from 'pg';
import type { Logger } from '@shopstream/shared';

const HOUR_MS = 3_600_000;

const partitionName = (start: Date): string =>
  `outbox_event_p${start.toISOString().slice(0, 13).replace(/[-T]/g, '')}`; // outbox_event_p2026112906

const floorHour = (d: Date): Date => new Date(Math.floor(d.getTime() / HOUR_MS) * HOUR_MS);

/**
 * Keeps the published history of the outbox in hourly partitions: creates them ahead of time (a
 * row published into an hour with no partition would land in the unpublished partition) and drops
 * whole partitions older than the retention window — no DELETE, no bloat, PENDING and DEAD rows
 * (in the unpublished partition) never touched. Relays run this concurrently; an advisory lock
 * makes one do it at a time.
 */
export class OutboxRetention {
  constructor(
    private readonly pool: Pool,
    private readonly log: Logger,
  ) {}

  /** @returns the partitions created and dropped by this call. */
  async maintain(options: {
    retentionHours: number;
    hoursAhead?: number;
    now?: Date;
  }): Promise<{ created: string[]; dropped: string[] }> {
    const now = options.now ?? new Date();
    const client = await this.pool.connect();
    try {
      await client.query('begin');
      await client.query(`select pg_advisory_xact_lock(hashtext('shopstream.outbox_retention'))`);
      const created = await this.ensurePartitions(client, floorHour(now), options.hoursAhead ?? 24);
      const dropped = await this.dropExpired(
        client,
        new Date(now.getTime() - options.retentionHours * HOUR_MS),
      );
      await client.query('commit');
      if (created.length || dropped.length)
        this.log.info({ created, dropped }, 'outbox partitions maintained');
      return { created, dropped };
    } catch (err) {
      await client.query('rollback').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  private async existing(client: PoolClient): Promise<Map<string, { from: Date; to: Date }>> {
    const { rows } = await client.query<{ name: string; bound: string }>(
      `select c.relname as name, pg_get_expr(c.relpartbound, c.oid) as bound
       from pg_inherits i join pg_class c on c.oid = i.inhrelid
       where i.inhparent = 'outbox_event'::regclass`,
    );
    const out = new Map<string, { from: Date; to: Date }>();
    for (const r of rows) {
      const m = /FROM \('([^']+)'\) TO \('([^']+)'\)/.exec(r.bound);
      if (m) out.set(r.name, { from: new Date(m[1]!), to: new Date(m[2]!) });
    }
    return out;
  }

  private async ensurePartitions(client: PoolClient, firstHour: Date, hoursAhead: number): Promise<string[]> {
    const have = await this.existing(client);
    const created: string[] = [];
    // One hour back too: rows marked just before the hour turned.
    for (let h = -1; h <= hoursAhead; h++) {
      const from = new Date(firstHour.getTime() + h * HOUR_MS);
      const to = new Date(from.getTime() + HOUR_MS);
      const name = partitionName(from);
      if (have.has(name)) continue;
      const range = `from ('${from.toISOString()}') to ('${to.toISOString()}')`;
      // Published rows of this hour that landed in the unpublished partition before it existed
      // would make CREATE ... PARTITION OF fail: move them into the new table, then attach it.
      await client.query(
        `create table "${name}" (like outbox_event including defaults including constraints)`,
      );
      await client.query(
        `with moved as (delete from outbox_event_unpublished
                        where published_at >= $1 and published_at < $2 returning *)
         insert into "${name}" select * from moved`,
        [from, to],
      );
      await client.query(`alter table outbox_event attach partition "${name}" for values ${range}`);
      created.push(name);
    }
    return created;
  }

  private async dropExpired(client: PoolClient, cutoff: Date): Promise<string[]> {
    const dropped: string[] = [];
    for (const [name, { to }] of await this.existing(client)) {
      if (to.getTime() <= cutoff.getTime()) {
        await client.query(`drop table "${name}"`);
        dropped.push(name);
      }
    }
    return dropped.sort();
  }
}
