import type { NewOutboxEvent, ProductSnapshot } from '@shopstream/shared';

/** A product as stored, in API/event shape (snake_case, decimal price string, ISO dates). */
export type Product = ProductSnapshot;

export interface StoredResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

export interface IdempotencyRecord {
  requestHash: string;
  response: StoredResponse;
}

/** The writes and reads of one database transaction. Everything a use case does through it commits together. */
export interface ProductTransaction {
  insertProduct(product: Product): Promise<void>;
  /** Locks the row until commit, so concurrent writers to one product queue up. */
  findProductForUpdate(id: string): Promise<Product | undefined>;
  updateProduct(product: Product): Promise<void>;
  appendEvent(event: NewOutboxEvent): Promise<void>;
  /** Wakes relays (`NOTIFY outbox_event`), delivered only if the transaction commits. */
  notifyRelays(shard: number): Promise<void>;
  /** @throws IdempotencyKeyTakenError when a concurrent request stored the same key first. */
  saveIdempotency(sellerId: string, key: string, record: IdempotencyRecord): Promise<void>;
}

export interface ProductStore {
  /** Runs `work` in one transaction: commits if it resolves, rolls back if it throws. */
  transaction<T>(work: (tx: ProductTransaction) => Promise<T>): Promise<T>;
  findProduct(id: string): Promise<Product | undefined>;
  /** Live (not deleted) products with id > `afterId`, ascending by id. */
  listProducts(query: { sellerId?: string; afterId?: string; limit: number }): Promise<Product[]>;
  /** A stored response for (seller, key) younger than `maxAgeMs`. */
  findIdempotency(sellerId: string, key: string, maxAgeMs: number): Promise<IdempotencyRecord | undefined>;
}

/** Raised by a store when a concurrent request already holds the same idempotency key. */
export class IdempotencyKeyTakenError extends Error {
  constructor(key: string) {
    super(`idempotency key ${key} was stored by a concurrent request`);
    this.name = 'IdempotencyKeyTakenError';
  }
}

export interface Clock {
  now(): Date;
}
