import { EntitySchema } from '@mikro-orm/core';

/** Who owns an outbox shard: `epoch` fences writes (+1 on every takeover), `lease_until` expires a dead owner. */
export interface RelayShardRow {
  shard: number;
  owner: string | null;
  epoch: string;
  leaseUntil: Date | null;
}

export const RelayShardEntity = new EntitySchema<RelayShardRow>({
  name: 'RelayShard',
  tableName: 'relay_shard',
  properties: {
    shard: { type: 'smallint', primary: true, autoincrement: false },
    owner: { type: 'text', nullable: true },
    // defaultRaw: MikroORM 7 maps bigint to a string and would compare the default as '0', not 0.
    epoch: { type: 'bigint', defaultRaw: '0' },
    leaseUntil: { type: 'datetime', columnType: 'timestamptz', fieldName: 'lease_until', nullable: true },
  },
});

/** A live relay: its heartbeat keeps `lease_until` in the future; the count of live members sets each one's share. */
export interface RelayMemberRow {
  owner: string;
  startedAt: Date;
  leaseUntil: Date;
}

export const RelayMemberEntity = new EntitySchema<RelayMemberRow>({
  name: 'RelayMember',
  tableName: 'relay_member',
  properties: {
    owner: { type: 'text', primary: true },
    startedAt: { type: 'datetime', columnType: 'timestamptz', fieldName: 'started_at', defaultRaw: 'now()' },
    leaseUntil: { type: 'datetime', columnType: 'timestamptz', fieldName: 'lease_until' },
  },
});

/**
 * The one source of truth for SHARD_COUNT (DESIGN §2): a single row, written by the first process
 * that starts against an empty database and read by every API and relay after that.
 */
export interface RelayConfigRow {
  id: number;
  shardCount: number;
  createdAt: Date;
}

export const RelayConfigEntity = new EntitySchema<RelayConfigRow>({
  name: 'RelayConfig',
  tableName: 'relay_config',
  properties: {
    id: { type: 'smallint', primary: true, autoincrement: false, default: 1 },
    shardCount: { type: 'smallint', fieldName: 'shard_count' },
    createdAt: { type: 'datetime', columnType: 'timestamptz', fieldName: 'created_at', defaultRaw: 'now()' },
  },
  checks: [
    { name: 'relay_config_single_row', expression: 'id = 1' },
    { name: 'relay_config_shard_count_check', expression: '(shard_count >= 1) and (shard_count <= 32767)' },
  ],
});
