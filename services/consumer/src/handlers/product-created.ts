import type { EventHandler } from '../handler-registry.js';
import { EventRejectedError } from '../event-errors.js';
import { productRow } from './product-row.js';

/** product.created: a live product appears in search and counts for its seller. */
export const productCreated: EventHandler = {
  type: 'product.created',
  toRow: (event) => {
    if (event.data.deleted_at)
      throw new EventRejectedError('SCHEMA_VIOLATION', `created event ${event.id} carries deleted_at`);
    return productRow(event, true);
  },
};
