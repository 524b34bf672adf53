import { LockMode, UniqueConstraintViolationException, raw } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { IdempotencyKeyEntity, OutboxEventEntity, ProductEntity } from '@shopstream/shared';
import type { NewOutboxEvent, ProductRow } from '@shopstream/shared';
import { IdempotencyKeyTakenError } from '../domain/ports.js';
import { IDEMPOTENCY_WINDOW_MS } from '../domain/products.js';
import type { IdempotencyRecord, Product, ProductStore, ProductTransaction } from '../domain/ports.js';

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
const notYoungerThan = (maxAgeMs: number) => ({
  $lte: raw(`now() - make_interval(secs => ${Number(maxAgeMs) / 1000})`),
});

const toRow = (p: Product): ProductRow => ({
  id: p.id,
  sellerId: p.seller_id,
  title: p.title,
  description: p.description,
  price: p.price,
  currency: p.currency,
  stock: p.stock,
  version: p.version,
  createdAt: new Date(p.created_at),
  updatedAt: new Date(p.updated_at),
  deletedAt: p.deleted_at ? new Date(p.deleted_at) : null,
});

/**
 * The PostgreSQL side of the product use cases, through MikroORM. Reads bypass the identity map
 * (every request sees committed state); writes are native inserts/updates inside `transaction`.
 */
export class MikroOrmProductStore implements ProductStore {
  constructor(private readonly em: EntityManager) {}

  async transaction<T>(work: (tx: ProductTransaction) => Promise<T>): Promise<T> {
    return this.em.fork().transactional((em) => work(new MikroOrmProductTransaction(em)));
  }

  async findProduct(id: string): Promise<Product | undefined> {
    const row = await this.em.fork().findOne(ProductEntity, { id }, { disableIdentityMap: true });
    return row ? toProduct(row) : undefined;
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

class MikroOrmProductTransaction implements ProductTransaction {
  constructor(private readonly em: EntityManager) {}

  async insertProduct(product: Product): Promise<void> {
    await this.em.insert(ProductEntity, toRow(product));
  }

  async findProductForUpdate(id: string): Promise<Product | undefined> {
    const row = await this.em.findOne(
      ProductEntity,
      { id },
      { lockMode: LockMode.PESSIMISTIC_WRITE, disableIdentityMap: true },
    );
    return row ? toProduct(row) : undefined;
  }

  async updateProduct(product: Product): Promise<void> {
    const { id, ...changes } = toRow(product);
    await this.em.nativeUpdate(ProductEntity, { id }, changes);
  }

  async appendEvent(event: NewOutboxEvent): Promise<void> {
    await this.em.insert(OutboxEventEntity, {
      id: event.id,
      aggregateType: event.aggregateType,
      aggregateId: event.aggregateId,
      aggregateVersion: event.aggregateVersion,
      eventType: event.eventType,
      topic: event.topic,
      shard: event.shard,
      payload: { ...event.payload },
      headers: { ...event.headers },
      status: 'PENDING',
      attempts: 0,
      // The database's clock, which the relay's backoff and retention compare against — never the pod's.
      nextAttemptAt: raw('now()'),
      createdAt: raw('now()'),
    });
  }

  async notifyRelays(shard: number): Promise<void> {
    await this.em.execute(`select pg_notify('outbox_event', ?)`, [String(shard)]);
  }

  async saveIdempotency(sellerId: string, key: string, record: IdempotencyRecord): Promise<void> {
    // An expired record for this key is replaced; a live one belongs to a concurrent request.
    await this.em.nativeDelete(IdempotencyKeyEntity, {
      sellerId,
      key,
      createdAt: notYoungerThan(IDEMPOTENCY_WINDOW_MS),
    });
    try {
      await this.em.insert(IdempotencyKeyEntity, {
        sellerId,
        key,
        requestHash: record.requestHash,
        response: record.response,
        // The database's clock, which the expiry above and the purge compare with.
        createdAt: raw('now()'),
      });
    } catch (err) {
      if (err instanceof UniqueConstraintViolationException) throw new IdempotencyKeyTakenError(key);
      throw err;
    }
  }
}
