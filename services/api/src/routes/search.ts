import { Hono } from 'hono';
import { searchQuerySchema } from '../domain/product-search.js';
import type { SearchIndex } from '../domain/product-search.js';
import { readQuery } from '../http/request-input.js';

export const READ_MODEL_AGE_HEADER = 'Read-Model-Age-Seconds';

/**
 * `GET /products/search?q=&seller_id=&limit=`: served from the consumer's read model, so it trails
 * the writes; the response says by how much (age of the newest applied event).
 */
export function createSearchRoutes(index: SearchIndex): Hono {
  const app = new Hono();
  app.get('/', async (c) => {
    const query = readQuery(c, searchQuerySchema);
    const [hits, age] = await Promise.all([
      index.search({
        text: query.q,
        limit: query.limit,
        ...(query.seller_id ? { sellerId: query.seller_id } : {}),
      }),
      index.freshnessSeconds(),
    ]);
    return c.json({ items: hits }, 200, {
      [READ_MODEL_AGE_HEADER]: age === null ? 'unknown' : age.toFixed(3),
    });
  });
  return app;
}
