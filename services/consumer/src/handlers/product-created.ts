import type { EventHandler } from '../handler-registry.js';
import { EventRejectedError } from '../event-errors.js';
import { projectProduct } from '../projection.js';

/** product.created: a live product appears in search and counts for its seller. */
export const productCreated: EventHandler = {
  type: 'product.created',
  handle: async (tx, event) => {
    if (event.data.deleted_at)
      throw new EventRejectedError('SCHEMA_VIOLATION', `created event ${event.id} carries deleted_at`);
    return projectProduct(tx, event, true);
  },
};
