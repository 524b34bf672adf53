import { OutboxAdmin } from '@shopstream/shared';
import type { SqlClient } from '@shopstream/shared';
import type { ConsumerGroupAdmin } from '@shopstream/operator';
import { DEAD_ROWS_SHOWN } from './status-report.js';
import type { GroupPart, OutboxPart } from './status-report.js';

/** The outbox, the relays' shards and members, from PostgreSQL (the relay's own tables). */
export async function readOutboxStatus(sql: SqlClient): Promise<OutboxPart> {
  const admin = new OutboxAdmin(sql);
  const [overview, backlog, dead, shards] = await Promise.all([
    admin.overview(),
    admin.backlog(),
    admin.list({ status: 'DEAD', limit: DEAD_ROWS_SHOWN }),
    sql.query<{ owner: string | null; shards: number; expires_in: number | null }>(
      `select owner, count(*)::int as shards,
              extract(epoch from min(lease_until) - now())::float8 as expires_in
       from relay_shard group by owner order by owner nulls last`,
    ),
  ]);
  const owned = shards.rows.filter((r) => r.owner !== null);
  const shardCount = shards.rows.reduce((n, r) => n + r.shards, 0);
  return {
    counts: overview.counts,
    pending: backlog.pending,
    blocked: backlog.blocked,
    oldestPendingAgeSeconds: backlog.oldestPendingAgeSeconds,
    oldestBlockedAgeSeconds: backlog.oldestBlockedAgeSeconds,
    dead: dead.map((d) => ({
      id: d.id,
      product: d.aggregateId,
      type: d.eventType,
      attempts: d.attempts,
      lastError: d.lastError,
    })),
    shardOwners: owned.map((r) => ({
      owner: r.owner!,
      shards: r.shards,
      leaseExpiresInSeconds: Math.round((r.expires_in ?? 0) * 10) / 10,
    })),
    shardCount,
    unownedShards: shardCount - owned.reduce((n, r) => n + r.shards, 0),
    relaysAlive: overview.liveRelays,
  };
}

/** The consumer group's state, members and lag, as the operator sees it. */
export async function readGroupStatus(
  groups: ConsumerGroupAdmin,
  group: string,
  topic: string,
  topicExists: boolean,
): Promise<GroupPart> {
  const d = await groups.describe(group, topicExists ? [topic] : []);
  return {
    group,
    topic,
    state: d.state,
    members: d.members.length,
    lag: topicExists ? d.lag : null,
    topicExists,
  };
}
