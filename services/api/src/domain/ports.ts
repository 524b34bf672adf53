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

/** A product at its new version and the one event that describes the change: they commit together. */
export interface ProductWrite {
  product: Product;
  event: NewOutboxEvent;
}

/** A create with an Idempotency-Key: the key is taken in the same statement as the product. */
export interface CreateWrite extends ProductWrite {
  idempotency?: { sellerId: string; key: string; record: IdempotencyRecord; windowMs: number };
}

export interface ProductStore {
  /**
   * Writes the product, its event and, when given, its idempotency key atomically. `prepare` runs
   * once a connection is free, so what it stamps is the write's time, not the time it queued.
   * @throws IdempotencyKeyTakenError when a live record already holds the key: nothing is written.
   */
  create(prepare: () => CreateWrite): Promise<CreateWrite>;
  /**
   * Writes the next version and its event only if the stored product is still at `fromVersion`
   * (optimistic lock); `undefined` means a concurrent writer changed it first and nothing was written.
   */
  update(fromVersion: number, prepare: () => ProductWrite): Promise<ProductWrite | undefined>;
  findProduct(id: string): Promise<Product | undefined>;
  /** Live (not deleted) products with id > `afterId`, ascending by id. */
  listProducts(query: { sellerId?: string; afterId?: string; limit: number }): Promise<Product[]>;
  /** A stored response for (seller, key) younger than `maxAgeMs`. */
  findIdempotency(sellerId: string, key: string, maxAgeMs: number): Promise<IdempotencyRecord | undefined>;
}

/**
 * Tells relays that events of `shard` were committed, after the commit and outside it, so no write
 * waits for it (DESIGN §4 item 6). Best effort: a lost signal only delays the event to the next poll.
 */
export interface RelaySignal {
  eventsCommitted(shard: number): void;
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
