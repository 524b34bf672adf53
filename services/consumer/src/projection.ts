import type { PoolClient } from 'pg';
import type { ProductEvent } from './event-envelope.js';

export type ProjectionOutcome = 'applied' | 'stale';

/**
 * Moves the read models to the state `event` describes, unless they already reflect this or a
 * newer version of the product (replays and reordering never move them backwards). A deleted
 * product stays as a tombstone so an older event cannot bring it back.
 */
export async function projectProduct(
  tx: PoolClient,
  event: ProductEvent,
  alive: boolean,
): Promise<ProjectionOutcome> {
  const p = event.data;
  const { rows } = await tx.query<{ source_version: number; deleted: boolean; stock: number }>(
    'select source_version, deleted, stock from product_search where product_id = $1 for update',
    [p.id],
  );
  const old = rows[0];
  if (old && old.source_version >= event.aggregateVersion) return 'stale';

  await tx.query(
    `insert into product_search (product_id, seller_id, title, description, price, currency, stock, source_version, deleted, event_time, applied_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, now())
     on conflict (product_id) do update set seller_id = excluded.seller_id, title = excluded.title,
       description = excluded.description, price = excluded.price, currency = excluded.currency, stock = excluded.stock,
       source_version = excluded.source_version, deleted = excluded.deleted, event_time = excluded.event_time,
       applied_at = now()`,
    [
      p.id,
      p.seller_id,
      p.title,
      p.description,
      p.price,
      p.currency,
      p.stock,
      event.aggregateVersion,
      !alive,
      event.time,
    ],
  );
  const wasAlive = old !== undefined && !old.deleted;
  const countDelta = (alive ? 1 : 0) - (wasAlive ? 1 : 0);
  const stockDelta = (alive ? p.stock : 0) - (wasAlive ? old.stock : 0);
  await tx.query(
    `insert into seller_stats (seller_id, product_count, total_stock) values ($1, $2, $3)
     on conflict (seller_id) do update set product_count = seller_stats.product_count + excluded.product_count,
       total_stock = seller_stats.total_stock + excluded.total_stock`,
    [p.seller_id, countDelta, stockDelta],
  );
  return 'applied';
}
