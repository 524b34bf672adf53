import { EntitySchema } from '@mikro-orm/core';

/** The consumer inbox: one row per (group, event) that took effect. */
export interface ProcessedEventRow {
  consumerGroup: string;
  eventId: string;
  processedAt: Date;
}

export const ProcessedEventEntity = new EntitySchema<ProcessedEventRow>({
  name: 'ProcessedEvent',
  tableName: 'processed_event',
  properties: {
    consumerGroup: { type: 'text', fieldName: 'consumer_group', primary: true },
    eventId: { type: 'uuid', fieldName: 'event_id', primary: true },
    processedAt: {
      type: 'datetime',
      columnType: 'timestamptz',
      fieldName: 'processed_at',
      defaultRaw: 'now()',
    },
  },
  // The consumer's inbox retention purges and ages rows of its group by processed_at.
  indexes: [{ name: 'processed_event_group_processed_at_idx', properties: ['consumerGroup', 'processedAt'] }],
});

export interface SellerStatsRow {
  sellerId: string;
  productCount: number;
  totalStock: string;
}

export const SellerStatsEntity = new EntitySchema<SellerStatsRow>({
  name: 'SellerStats',
  tableName: 'seller_stats',
  properties: {
    sellerId: { type: 'uuid', fieldName: 'seller_id', primary: true },
    productCount: { type: 'integer', fieldName: 'product_count', default: 0 },
    totalStock: { type: 'bigint', fieldName: 'total_stock', default: 0 },
  },
});
