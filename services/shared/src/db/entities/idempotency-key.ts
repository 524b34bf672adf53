import { EntitySchema } from '@mikro-orm/core';

/** A POST's stored outcome, replayed for the same (seller, key) for 24 h (Stripe-style). */
export interface IdempotencyKeyRow {
  sellerId: string;
  key: string;
  requestHash: string;
  response: { status: number; headers: Record<string, string>; body: unknown };
  createdAt: Date;
}

export const IdempotencyKeyEntity = new EntitySchema<IdempotencyKeyRow>({
  name: 'IdempotencyKey',
  tableName: 'idempotency_key',
  properties: {
    // Keys are scoped per seller: two sellers choosing the same key never collide.
    sellerId: { type: 'uuid', fieldName: 'seller_id', primary: true },
    key: { type: 'text', primary: true },
    requestHash: { type: 'text', fieldName: 'request_hash' },
    response: { type: 'json', columnType: 'jsonb' },
    createdAt: { type: 'datetime', columnType: 'timestamptz', fieldName: 'created_at', defaultRaw: 'now()' },
  },
  indexes: [{ name: 'idempotency_key_created_at_idx', properties: ['createdAt'] }],
});
