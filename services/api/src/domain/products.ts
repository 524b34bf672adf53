import {
  ConflictError,
  ForbiddenError,
  IdempotencyKeyReusedError,
  NotFoundError,
  ValidationError,
  buildProductEvent,
  newId,
} from '@shopstream/shared';
import type { ProductEventType } from '@shopstream/shared';
import type { CreateProductInput, UpdateProductInput } from './product-input.js';
import { IdempotencyKeyTakenError } from './ports.js';
import type {
  Clock,
  CreateWrite,
  Product,
  ProductStore,
  ProductWrite,
  RelaySignal,
  StoredResponse,
} from './ports.js';

export interface ProductDeps {
  store: ProductStore;
  clock: Clock;
  shardCount: number;
  topic: string;
  relays: RelaySignal;
}

export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;

/**
 * How often an unconditional delete re-reads a product that concurrent writers keep changing
 * before it answers 409; each lost round means another write to that product succeeded.
 */
const MAX_WRITE_ATTEMPTS = 10;

/**
 * `product` at its new version with the one event that describes the change. Every write builds
 * its event here, so no write can commit without its event or publish without one.
 */
function withEvent(deps: ProductDeps, type: ProductEventType, product: Product): ProductWrite {
  // The event's time is the change's time, so ce_time equals the snapshot's updated_at.
  const event = buildProductEvent(type, product, {
    shardCount: deps.shardCount,
    topic: deps.topic,
    time: new Date(product.updated_at),
  });
  return { product, event };
}

export interface IdempotentRequest {
  key: string;
  requestHash: string;
  /** The HTTP response to store for replay, built from the created product. */
  respond(product: Product): StoredResponse;
}

export type CreateOutcome =
  | { kind: 'created'; product: Product; response?: StoredResponse }
  | { kind: 'replayed'; response: StoredResponse };

/**
 * Creates a product for `sellerId`. With an idempotency key, a repeat of the same request returns
 * the stored response and writes nothing.
 * @throws IdempotencyKeyReusedError when the key was used with a different request body.
 */
export async function createProduct(
  deps: ProductDeps,
  sellerId: string,
  input: CreateProductInput,
  idempotency?: IdempotentRequest,
): Promise<CreateOutcome> {
  if (idempotency) {
    const replay = await replayIfKnown(deps, sellerId, idempotency);
    if (replay) return replay;
  }
  try {
    const written = await deps.store.create((): CreateWrite => {
      const now = deps.clock.now().toISOString();
      const product: Product = {
        id: newId(),
        seller_id: sellerId,
        title: input.title,
        description: input.description ?? null,
        price: input.price,
        currency: input.currency,
        stock: input.stock,
        version: 1,
        created_at: now,
        updated_at: now,
        deleted_at: null,
      };
      const write = withEvent(deps, 'product.created', product);
      if (!idempotency) return write;
      const record = { requestHash: idempotency.requestHash, response: idempotency.respond(product) };
      return {
        ...write,
        idempotency: { sellerId, key: idempotency.key, record, windowMs: IDEMPOTENCY_WINDOW_MS },
      };
    });
    deps.relays.eventsCommitted(written.event.shard);
    return {
      kind: 'created',
      product: written.product,
      ...(written.idempotency ? { response: written.idempotency.record.response } : {}),
    };
  } catch (err) {
    // A concurrent request with the same key took it first; ours wrote nothing.
    if (idempotency && err instanceof IdempotencyKeyTakenError) {
      const replay = await replayIfKnown(deps, sellerId, idempotency);
      if (replay) return replay;
    }
    throw err;
  }
}

async function replayIfKnown(
  deps: ProductDeps,
  sellerId: string,
  idempotency: IdempotentRequest,
): Promise<CreateOutcome | undefined> {
  const known = await deps.store.findIdempotency(sellerId, idempotency.key, IDEMPOTENCY_WINDOW_MS);
  if (!known) return undefined;
  if (known.requestHash !== idempotency.requestHash) {
    throw new IdempotencyKeyReusedError(
      `idempotency key ${idempotency.key} was already used with a different request body`,
    );
  }
  return { kind: 'replayed', response: known.response };
}

/** @throws NotFoundError for unknown and deleted products. */
export async function getProduct(deps: Pick<ProductDeps, 'store'>, id: string): Promise<Product> {
  const product = await deps.store.findProduct(id);
  if (!product || product.deleted_at) throw new NotFoundError(`product ${id} not found`);
  return product;
}

/**
 * Moves the product to its next version with `change`, without holding a lock between reading
 * and writing: the write applies only if the product is still at the version read (optimistic
 * lock). When a concurrent writer won, the product is read again, so the answer (404, 403, 409)
 * describes what that writer left; without `expectedVersion` the change is retried on it.
 * @throws NotFoundError, ForbiddenError (another seller's product), ConflictError (stale version).
 */
async function writeNextVersion(
  deps: ProductDeps,
  type: ProductEventType,
  target: { id: string; sellerId: string; expectedVersion: number | undefined },
  change: (current: Product, now: string) => Product,
): Promise<Product> {
  const { id, sellerId, expectedVersion } = target;
  for (let attempt = 1; ; attempt++) {
    const current = await deps.store.findProduct(id);
    if (!current || current.deleted_at) throw new NotFoundError(`product ${id} not found`);
    if (current.seller_id !== sellerId) throw new ForbiddenError(`product ${id} belongs to another seller`);
    if (expectedVersion !== undefined && current.version !== expectedVersion) {
      throw new ConflictError(`product ${id} is at version ${current.version}, not ${expectedVersion}`);
    }
    const written = await deps.store.update(current.version, () =>
      withEvent(deps, type, change(current, deps.clock.now().toISOString())),
    );
    if (written) {
      deps.relays.eventsCommitted(written.event.shard);
      return written.product;
    }
    if (attempt >= MAX_WRITE_ATTEMPTS) {
      throw new ConflictError(`product ${id} kept changing; ${attempt} attempts to ${type} it lost`);
    }
  }
}

/** Applies a patch at `expectedVersion` (optimistic lock): one of two concurrent patches wins, the other gets 409. */
export async function updateProduct(
  deps: ProductDeps,
  sellerId: string,
  id: string,
  expectedVersion: number,
  patch: Omit<UpdateProductInput, 'version'>,
): Promise<Product> {
  return writeNextVersion(deps, 'product.updated', { id, sellerId, expectedVersion }, (current, now) => ({
    ...current,
    ...(patch.title !== undefined ? { title: patch.title } : {}),
    ...(patch.description !== undefined ? { description: patch.description } : {}),
    ...(patch.price !== undefined ? { price: patch.price } : {}),
    ...(patch.stock !== undefined ? { stock: patch.stock } : {}),
    version: current.version + 1,
    updated_at: now,
  }));
}

/** Soft-deletes the product; `expectedVersion` is checked when given. */
export async function deleteProduct(
  deps: ProductDeps,
  sellerId: string,
  id: string,
  expectedVersion?: number,
): Promise<Product> {
  return writeNextVersion(deps, 'product.deleted', { id, sellerId, expectedVersion }, (current, now) => ({
    ...current,
    version: current.version + 1,
    updated_at: now,
    deleted_at: now,
  }));
}

/** Keyset page: the cursor is the last id of the previous page, so concurrent inserts never shift pages. */
export async function listProducts(
  deps: Pick<ProductDeps, 'store'>,
  query: { sellerId?: string; cursor?: string; limit: number },
): Promise<{ items: Product[]; nextCursor: string | null }> {
  const afterId = query.cursor ? decodeCursor(query.cursor) : undefined;
  const rows = await deps.store.listProducts({
    ...(query.sellerId ? { sellerId: query.sellerId } : {}),
    ...(afterId ? { afterId } : {}),
    limit: query.limit + 1,
  });
  const items = rows.slice(0, query.limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > query.limit && last ? encodeCursor(last.id) : null };
}

export const encodeCursor = (id: string): string =>
  Buffer.from(id.replace(/-/g, ''), 'hex').toString('base64url');

/** @throws ValidationError when the cursor was not made by `encodeCursor`. */
export function decodeCursor(cursor: string): string {
  const hex = Buffer.from(cursor, 'base64url').toString('hex');
  if (hex.length !== 32 || encodeCursor(hex) !== cursor) {
    throw new ValidationError('invalid query', [
      { field: 'cursor', message: 'must be a cursor returned by a previous page' },
    ]);
  }
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
