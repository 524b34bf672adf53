import { z } from 'zod';
import type { ProductSnapshot } from '@shopstream/shared';

export const searchQuerySchema = z.strictObject(
  {
    q: z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
    seller_id: z.uuid({ error: 'must be a UUID' }).optional(),
    limit: z.coerce
      .number({ error: 'must be an integer' })
      .int('must be an integer')
      .min(1)
      .max(100)
      .default(20),
  },
  { error: (issue) => (issue.code === 'unrecognized_keys' ? 'unknown query parameter' : undefined) },
);
export type SearchQuery = z.output<typeof searchQuerySchema>;

/** A match: the product as the read model has it (at `version`), with its relevance. */
export type SearchHit = Pick<
  ProductSnapshot,
  'id' | 'seller_id' | 'title' | 'description' | 'price' | 'currency' | 'stock' | 'version'
> & { rank: number };

/** The consumer-maintained read model, read by the search route. */
export interface SearchIndex {
  search(query: { text: string; sellerId?: string; limit: number }): Promise<SearchHit[]>;
  /** Seconds since the newest event the read model applied was committed; null when it is empty. */
  freshnessSeconds(): Promise<number | null>;
}
