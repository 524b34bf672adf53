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
    epoch: { type: 'bigint', default: 0 },
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
