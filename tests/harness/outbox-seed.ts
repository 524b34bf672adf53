import type pg from 'pg';
import { buildProductEvent, newId } from '@shopstream/shared';
import type { ProductEventType, ProductSnapshot } from '@shopstream/shared';

export interface SeedOptions {
  topic: string;
  products: number;
  eventsPerProduct: number;
  shardCount?: number;
  /** Extra bytes of description in every payload (to make poison messages). */
  padding?: number;
}

/** A product snapshot at `version`, as the API would put in an event; `overrides` change fields. */
export function productSnapshot(
  id: string,
  version: number,
  overrides: Partial<ProductSnapshot> = {},
): ProductSnapshot {
  const now = new Date().toISOString();
  return {
    id,
    seller_id: '3fa85f64-5717-4562-b3fc-2c963f66afa6',
    title: `Product ${id.slice(-6)}`,
    description: null,
    price: '9.99',
    currency: 'USD',
    stock: version,
    version,
    created_at: now,
    updated_at: now,
    deleted_at: null,
    ...overrides,
  };
}

/**
 * Writes outbox rows exactly as the API does (same envelope builder), without the API: product i's
 * events get versions 1..n, and products are interleaved so the commit order (seq) mixes them.
 * @returns the product ids, in creation order.
 */
export async function seedOutbox(pool: pg.Pool, options: SeedOptions): Promise<string[]> {
  const products = Array.from({ length: options.products }, () => newId());
  const rows: ReturnType<typeof buildProductEvent>[] = [];
  for (let version = 1; version <= options.eventsPerProduct; version++) {
    for (const id of products) {
      const type: ProductEventType = version === 1 ? 'product.created' : 'product.updated';
      const snapshot = productSnapshot(
        id,
        version,
        options.padding ? { description: 'x'.repeat(options.padding) } : {},
      );
      rows.push(
        buildProductEvent(type, snapshot, { shardCount: options.shardCount ?? 64, topic: options.topic }),
      );
    }
  }
  for (let i = 0; i < rows.length; i += 2000) await insertEvents(pool, rows.slice(i, i + 2000));
  return products;
}

/** Inserts built events in the given order (their seq follows it); a checked-out client keeps it in its transaction. */
export async function insertEvents(
  pool: Pick<pg.ClientBase, 'query'>,
  events: ReturnType<typeof buildProductEvent>[],
): Promise<void> {
  await pool.query(
    `insert into outbox_event (id, aggregate_type, aggregate_id, aggregate_version, event_type, topic, shard, payload, headers, created_at)
     select id, at, aid, av, et, topic, shard, payload, headers, created_at
     from unnest($1::uuid[], $2::text[], $3::uuid[], $4::int[], $5::text[], $6::text[], $7::smallint[], $8::json[], $9::jsonb[], $10::timestamptz[])
       with ordinality as t(id, at, aid, av, et, topic, shard, payload, headers, created_at, n)
     order by n`,
    [
      events.map((e) => e.id),
      events.map((e) => e.aggregateType),
      events.map((e) => e.aggregateId),
      events.map((e) => e.aggregateVersion),
      events.map((e) => e.eventType),
      events.map((e) => e.topic),
      events.map((e) => e.shard),
      events.map((e) => JSON.stringify(e.payload)),
      events.map((e) => JSON.stringify(e.headers)),
      events.map((e) => e.createdAt),
    ],
  );
}
