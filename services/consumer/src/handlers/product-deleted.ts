import type { EventHandler } from '../handler-registry.js';
import { EventRejectedError } from '../event-errors.js';
import { productRow } from './product-row.js';

/** product.deleted: the product leaves search (as a tombstone) and its seller's counts. */
export const productDeleted: EventHandler = {
  type: 'product.deleted',
  toRow: (event) => {
    if (!event.data.deleted_at)
      throw new EventRejectedError('SCHEMA_VIOLATION', `deleted event ${event.id} has no deleted_at`);
    return productRow(event, false);
  },
};
