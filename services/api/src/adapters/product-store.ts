import { raw } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type pg from 'pg';
import { IdempotencyKeyEntity, ProductEntity } from '@shopstream/shared';
import type { ProductRow } from '@shopstream/shared';
import { IdempotencyKeyTakenError } from '../domain/ports.js';
import type { CreateWrite, IdempotencyRecord, Product, ProductStore, ProductWrite } from '../domain/ports.js';
import { runOnPooledClient } from './pooled-client.js';
import {
  CREATE_PRODUCT,
  CREATE_PRODUCT_WITH_KEY,
  SELECT_PRODUCT,
  UPDATE_PRODUCT,
  eventValues,
  productChangeValues,
  productValues,
} from './product-statements.js';
import type { ProductRecord } from './product-statements.js';

const toProduct = (row: ProductRow): Product => ({
  id: row.id,
  seller_id: row.sellerId,
  title: row.title,
  description: row.description,
  price: row.price,
  currency: row.currency,
  stock: row.stock,
  version: row.version,
  created_at: row.createdAt.toISOString(),
  updated_at: row.updatedAt.toISOString(),
  deleted_at: row.deletedAt ? row.deletedAt.toISOString() : null,
});

/** `created_at` of a live idempotency record, on the database's clock (not the pod's). */
const youngerThan = (maxAgeMs: number) => ({
  $gt: raw(`now() - make_interval(secs => ${Number(maxAgeMs) / 1000})`),
});

/** The statement's own row as a product; the statement already formats dates as `toISOString` does. */
const fromRecord = (r: ProductRecord): Product => ({ ...r, currency: r.currency.trimEnd() });

/**
 * The PostgreSQL side of the product use cases. Writes and the single-product read are one
 * prepared statement each, sent through the `pg` pool MikroORM created (the same connections,
 * timeouts and pool limit as the rest of the API): a write is one round trip in one implicit
 * transaction, with no BEGIN/COMMIT and no ORM query building on the hot path. The listing and
 * idempotency lookups stay on MikroORM; they bypass the identity map, so every request sees
 * committed state.
 */
export class PostgresProductStore implements ProductStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly em: EntityManager,
  ) {}

  async create(prepare: () => CreateWrite): Promise<CreateWrite> {
    const { write, taken } = await runOnPooledClient(this.pool, async (client) => {
      const write = prepare();
      const { product, event, idempotency } = write;
      if (!idempotency) {
        await client.query({ ...CREATE_PRODUCT, values: [...productValues(product), ...eventValues(event)] });
        return { write, taken: true };
      }
      const { rows } = await client.query<{ taken: boolean }>({
        ...CREATE_PRODUCT_WITH_KEY,
        values: [
          ...productValues(product),
          ...eventValues(event),
          idempotency.sellerId,
          idempotency.key,
          idempotency.record.requestHash,
          JSON.stringify(idempotency.record.response),
          idempotency.windowMs / 1000,
        ],
      });
      return { write, taken: rows[0]?.taken === true };
    });
    if (!taken) throw new IdempotencyKeyTakenError(write.idempotency!.key);
    return write;
  }

  async update(fromVersion: number, prepare: () => ProductWrite): Promise<ProductWrite | undefined> {
    return runOnPooledClient(this.pool, async (client) => {
      const write = prepare();
      const { rows } = await client.query<{ written: boolean }>({
        ...UPDATE_PRODUCT,
        values: [...productChangeValues(write.product), ...eventValues(write.event), fromVersion],
      });
      return rows[0]?.written ? write : undefined;
    });
  }

  async findProduct(id: string): Promise<Product | undefined> {
    const { rows } = await this.pool.query<ProductRecord>({ ...SELECT_PRODUCT, values: [id] });
    return rows[0] ? fromRecord(rows[0]) : undefined;
  }

  async listProducts(query: { sellerId?: string; afterId?: string; limit: number }): Promise<Product[]> {
    const rows = await this.em.fork().find(
      ProductEntity,
      {
        deletedAt: null,
        ...(query.sellerId ? { sellerId: query.sellerId } : {}),
        ...(query.afterId ? { id: { $gt: query.afterId } } : {}),
      },
      { orderBy: { id: 'asc' }, limit: query.limit, disableIdentityMap: true },
    );
    return rows.map(toProduct);
  }

  async findIdempotency(
    sellerId: string,
    key: string,
    maxAgeMs: number,
  ): Promise<IdempotencyRecord | undefined> {
    const row = await this.em
      .fork()
      .findOne(
        IdempotencyKeyEntity,
        { sellerId, key, createdAt: youngerThan(maxAgeMs) },
        { disableIdentityMap: true },
      );
    return row ? { requestHash: row.requestHash, response: row.response } : undefined;
  }
}
