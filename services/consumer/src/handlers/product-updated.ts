import type { EventHandler } from '../handler-registry.js';
import { EventRejectedError } from '../event-errors.js';
import { productRow } from './product-row.js';

/** product.updated: the new title, price and stock replace the old ones (if newer). */
export const productUpdated: EventHandler = {
  type: 'product.updated',
  toRow: (event) => {
    if (event.data.deleted_at)
      throw new EventRejectedError('SCHEMA_VIOLATION', `updated event ${event.id} carries deleted_at`);
    return productRow(event, true);
  },
};
