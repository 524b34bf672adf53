import { EntitySchema } from '@mikro-orm/core';

export const OUTBOX_STATUSES = ['PENDING', 'PUBLISHED', 'DEAD', 'SKIPPED'] as const;
export type OutboxStatus = (typeof OUTBOX_STATUSES)[number];

/** One domain event waiting for (or done with) the relay (DESIGN §2). */
export interface OutboxEventRow {
  id: string;
  seq?: string;
  aggregateType: string;
  aggregateId: string;
  aggregateVersion: number;
  eventType: string;
  topic: string;
  shard: number;
  payload: Record<string, unknown>;
  headers: Record<string, string>;
  status: OutboxStatus;
  attempts: number;
  nextAttemptAt: Date;
  lastError: string | null;
  createdAt: Date;
  publishedAt: Date | null;
  kafkaPartition: number | null;
  kafkaOffset: string | null;
}

export const OutboxEventEntity = new EntitySchema<OutboxEventRow>({
  name: 'OutboxEvent',
  tableName: 'outbox_event',
  properties: {
    id: { type: 'uuid', primary: true },
    // Commit order within a shard; the relay publishes a product's events in seq order.
    seq: { type: 'bigint', autoincrement: true },
    aggregateType: { type: 'text', fieldName: 'aggregate_type' },
    aggregateId: { type: 'uuid', fieldName: 'aggregate_id' },
    aggregateVersion: { type: 'integer', fieldName: 'aggregate_version' },
    eventType: { type: 'text', fieldName: 'event_type' },
    topic: { type: 'text' },
    shard: { type: 'smallint' },
    // json, not jsonb: the API's text is kept as it came and sent to Kafka as it is.
    payload: { type: 'json', columnType: 'json' },
    headers: { type: 'json', columnType: 'jsonb' },
    status: { enum: true, items: () => [...OUTBOX_STATUSES], default: 'PENDING' },
    attempts: { type: 'integer', default: 0 },
    nextAttemptAt: {
      type: 'datetime',
      columnType: 'timestamptz',
      fieldName: 'next_attempt_at',
      defaultRaw: 'now()',
    },
    lastError: { type: 'text', fieldName: 'last_error', nullable: true },
    createdAt: { type: 'datetime', columnType: 'timestamptz', fieldName: 'created_at', defaultRaw: 'now()' },
    publishedAt: { type: 'datetime', columnType: 'timestamptz', fieldName: 'published_at', nullable: true },
    kafkaPartition: { type: 'integer', fieldName: 'kafka_partition', nullable: true },
    kafkaOffset: { type: 'bigint', fieldName: 'kafka_offset', nullable: true },
  },
  // The physical layout (partitioned by published_at, keys and indexes on the unpublished
  // partition) is owned by Migration20261129010000_relay; the drift check compares its columns only.
});
