import { newId } from '../ids.js';
import { shardOf } from './shard.js';

/** The event types of DESIGN §3; the consumer registers one handler per entry. */
export const PRODUCT_EVENT_TYPES = ['product.created', 'product.updated', 'product.deleted'] as const;
export type ProductEventType = (typeof PRODUCT_EVENT_TYPES)[number];

export const PRODUCT_AGGREGATE_TYPE = 'product';
export const PRODUCT_EVENTS_TOPIC = 'product.events';
export const EVENT_SOURCE = '/shopstream/api';

/** The full product state carried by every event (`data`), including the version it reached. */
export interface ProductSnapshot {
  id: string;
  seller_id: string;
  title: string;
  description: string | null;
  price: string;
  currency: string;
  stock: number;
  version: number;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
}

/** Kafka record headers in CloudEvents 1.0 binary mode (DESIGN §3), all strings. */
export interface CloudEventHeaders {
  ce_specversion: '1.0';
  ce_id: string;
  ce_type: ProductEventType;
  ce_source: string;
  ce_subject: string;
  ce_time: string;
  ce_aggregateversion: string;
  'content-type': 'application/json';
}

/** An outbox row as the write path creates it: everything the relay needs to publish it unchanged. */
export interface NewOutboxEvent {
  id: string;
  aggregateType: string;
  aggregateId: string;
  aggregateVersion: number;
  eventType: ProductEventType;
  topic: string;
  shard: number;
  payload: ProductSnapshot;
  headers: CloudEventHeaders;
  createdAt: Date;
}

/**
 * Describes a product change as the one outbox event written in the same transaction. This is
 * the only place an event envelope is built; the relay publishes `headers` and `payload` as they are.
 */
export function buildProductEvent(
  type: ProductEventType,
  product: ProductSnapshot,
  options: { shardCount: number; topic?: string; time?: Date },
): NewOutboxEvent {
  const id = newId();
  const time = options.time ?? new Date();
  return {
    id,
    aggregateType: PRODUCT_AGGREGATE_TYPE,
    aggregateId: product.id,
    aggregateVersion: product.version,
    eventType: type,
    topic: options.topic ?? PRODUCT_EVENTS_TOPIC,
    shard: shardOf(product.id, options.shardCount),
    payload: product,
    headers: {
      ce_specversion: '1.0',
      ce_id: id,
      ce_type: type,
      ce_source: EVENT_SOURCE,
      ce_subject: product.id,
      ce_time: time.toISOString(),
      ce_aggregateversion: String(product.version),
      'content-type': 'application/json',
    },
    createdAt: time,
  };
}
