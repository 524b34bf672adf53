import type { EntityManager } from '@mikro-orm/postgresql';
import type { SearchHit, SearchIndex } from '../domain/product-search.js';

/** Full-text search over `product_search` (written by the consumer), ranked by ts_rank. */
export class PostgresSearchIndex implements SearchIndex {
  constructor(private readonly em: EntityManager) {}

  async search(query: { text: string; sellerId?: string; limit: number }): Promise<SearchHit[]> {
    const rows = await this.em.getConnection().execute<
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
      `select product_id, seller_id, title, description, price, currency, stock, source_version,
              ts_rank(search, websearch_to_tsquery('english', ?)) as rank
       from product_search
       where not deleted and search @@ websearch_to_tsquery('english', ?) and (?::uuid is null or seller_id = ?::uuid)
       order by rank desc, product_id
       limit ?`,
      [query.text, query.text, query.sellerId ?? null, query.sellerId ?? null, query.limit],
    );
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
