import type { ProductEvent } from '../event-envelope.js';
import type { ProductRow } from '../projection.js';

/** The `product_search` row of the product an event carries: live, or a tombstone. */
export function productRow(event: ProductEvent, alive: boolean): ProductRow {
  const p = event.data;
  return {
    productId: p.id,
    sellerId: p.seller_id,
    title: p.title,
    description: p.description,
    price: p.price,
    currency: p.currency,
    stock: p.stock,
    version: event.aggregateVersion,
    deleted: !alive,
    eventTime: event.time,
  };
}
