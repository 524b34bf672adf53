import { IdempotencyKeyEntity } from './idempotency-key.js';
import { OutboxEventEntity } from './outbox-event.js';
import { ProductEntity } from './product.js';
import { ProcessedEventEntity, SellerStatsEntity } from './read-models.js';
import { RelayConfigEntity, RelayMemberEntity, RelayShardEntity } from './relay.js';

export {
  ProductEntity,
  OutboxEventEntity,
  IdempotencyKeyEntity,
  RelayShardEntity,
  RelayMemberEntity,
  RelayConfigEntity,
};
export type { RelayShardRow, RelayMemberRow, RelayConfigRow } from './relay.js';
export { ProcessedEventEntity, SellerStatsEntity };
export type { ProcessedEventRow, SellerStatsRow } from './read-models.js';
export type { ProductRow } from './product.js';
export type { OutboxEventRow, OutboxStatus } from './outbox-event.js';
export { OUTBOX_STATUSES } from './outbox-event.js';
export type { IdempotencyKeyRow } from './idempotency-key.js';

/** Every entity of the shopstream schema; the ORM config and the migration check use this one list. */
export const allEntities = [
  ProductEntity,
  OutboxEventEntity,
  IdempotencyKeyEntity,
  RelayShardEntity,
  RelayMemberEntity,
  RelayConfigEntity,
];
