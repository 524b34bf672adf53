import type { EntityManager } from '@mikro-orm/postgresql';
import type { SearchHit, SearchIndex } from '../domain/product-search.js';

export interface SearchLimits {
  /** At most this many matching rows are ranked: a common word cannot make one search rank the whole table. */
  candidateLimit: number;
  /** Server-side cap on the search statement (SET LOCAL statement_timeout); past it the answer is 503. */
  statementTimeoutMs: number;
}

export const DEFAULT_SEARCH_LIMITS: SearchLimits = { candidateLimit: 1_000, statementTimeoutMs: 2_000 };

/**
 * Full-text search over `product_search` (written by the consumer), ranked by ts_rank among at most
 * `candidateLimit` matches. When more rows match, which ones are ranked is up to the index scan: the
 * cap bounds the work, and a more specific query finds the rest.
 */
export class PostgresSearchIndex implements SearchIndex {
  constructor(
    private readonly em: EntityManager,
    private readonly limits: SearchLimits = DEFAULT_SEARCH_LIMITS,
  ) {}

  async search(query: { text: string; sellerId?: string; limit: number }): Promise<SearchHit[]> {
    const timeoutMs = Math.max(1, Math.floor(this.limits.statementTimeoutMs));
    const rows = await this.em.fork().transactional(async (em) => {
      await em.execute(`set local statement_timeout = ${timeoutMs}`);
      return em.execute<
        {
          product_id: string;
          seller_id: string;
          title: string;
          description: string | null;
          price: string;
          currency: string;
          stock: number;
          source_version: number;
          rank: number;
        }[]
      >(
        `with query as (select websearch_to_tsquery('english', ?) as q),
         candidates as (
           select p.* from product_search p, query
           where not p.deleted and p.search @@ query.q and (?::uuid is null or p.seller_id = ?::uuid)
           limit ?)
         select c.product_id, c.seller_id, c.title, c.description, c.price, c.currency, c.stock,
                c.source_version, ts_rank(c.search, query.q) as rank
         from candidates c, query
         order by rank desc, c.product_id
         limit ?`,
        [query.text, query.sellerId ?? null, query.sellerId ?? null, this.limits.candidateLimit, query.limit],
      );
    });
    return rows.map((r) => ({
      id: r.product_id,
      seller_id: r.seller_id,
      title: r.title,
      description: r.description,
      price: r.price,
      currency: r.currency.trim(),
      stock: r.stock,
      version: r.source_version,
      rank: Number(r.rank),
    }));
  }

  async freshnessSeconds(): Promise<number | null> {
    const [row] = await this.em
      .getConnection()
      .execute<{ age: number | null }[]>(
        `select extract(epoch from now() - max(event_time))::float8 as age from product_search`,
      );
    return row?.age ?? null;
  }
}
