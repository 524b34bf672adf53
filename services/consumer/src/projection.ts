import type { PoolClient } from 'pg';

export type ProjectionOutcome = 'applied' | 'stale';

/** The `product_search` row an event asks for: the product as of `version`, or its tombstone. */
export interface ProductRow {
  productId: string;
  sellerId: string;
  title: string;
  description: string | null;
  price: string;
  currency: string;
  stock: number;
  version: number;
  deleted: boolean;
  eventTime: Date;
}

/** What a `product_search` row contributes to `seller_stats`: its seller, stock and liveness. */
export interface ProjectedRow {
  seller_id: string;
  stock: number;
  deleted: boolean;
}

/** A change to one seller's `seller_stats` row. */
export interface SellerStatsDelta {
  sellerId: string;
  productCount: number;
  totalStock: number;
}

/**
 * The `seller_stats` changes that turn the counts of each `before` into those of its `after` (a live
 * row counts one product and its stock for its seller; a tombstone or no row counts nothing), summed
 * over all pairs. Use it with the rows a statement actually replaced and the rows it actually wrote.
 * A seller change moves the product between sellers. Sellers whose counts do not change are left
 * out; the rest are ordered by seller id, so concurrent writers lock them in one order.
 */
export function sellerStatsDelta(
  ...changes: [before: ProjectedRow | undefined, after: ProjectedRow | undefined][]
): SellerStatsDelta[] {
  const bySeller = new Map<string, SellerStatsDelta>();
  const add = (row: ProjectedRow | undefined, sign: 1 | -1): void => {
    if (!row || row.deleted) return;
    const delta = bySeller.get(row.seller_id) ?? { sellerId: row.seller_id, productCount: 0, totalStock: 0 };
    delta.productCount += sign;
    delta.totalStock += sign * row.stock;
    bySeller.set(row.seller_id, delta);
  };
  for (const [before, after] of changes) {
    add(before, -1);
    add(after, 1);
  }
  return [...bySeller.values()]
    .filter((d) => d.productCount !== 0 || d.totalStock !== 0)
    .sort((a, b) => (a.sellerId < b.sellerId ? -1 : a.sellerId > b.sellerId ? 1 : 0));
}

/**
 * Per product, the row of the highest version (the first of equals). Applying only it leaves
 * `product_search` where applying every row in version order would: each write replaces the whole
 * row, and the guard keeps the highest version.
 */
export function newestPerProduct(rows: readonly ProductRow[]): ProductRow[] {
  const newest = new Map<string, ProductRow>();
  for (const row of rows) {
    const known = newest.get(row.productId);
    if (!known || row.version > known.version) newest.set(row.productId, row);
  }
  // Product order is lock order: two transactions over overlapping products cannot deadlock.
  return [...newest.values()].sort((a, b) => (a.productId < b.productId ? -1 : 1));
}

/** The stored rows of these products, locked until commit (the latest committed versions). */
const LOCK_SQL = `
select product_id, seller_id, stock, deleted, source_version from product_search
 where product_id = any($1::uuid[]) order by product_id for update`;

/**
 * Writes each row whose product has no stored row, or an older one. A row whose product was not in
 * the locked set ($11) is only inserted, never updated: when a concurrent transaction committed that
 * product after the lock statement, its row is not the one the stats delta would be computed from,
 * so the statement leaves it alone and the caller locks and tries again.
 */
const WRITE_SQL = `
insert into product_search as p (product_id, seller_id, title, description, price, currency, stock,
  source_version, deleted, event_time, applied_at)
select product_id, seller_id, title, description, price, currency, stock, source_version, deleted,
       event_time, now()
  from unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::numeric[], $6::text[], $7::int[],
              $8::int[], $9::boolean[], $10::timestamptz[])
    as r(product_id, seller_id, title, description, price, currency, stock, source_version, deleted, event_time)
 order by product_id
on conflict (product_id) do update set seller_id = excluded.seller_id, title = excluded.title,
  description = excluded.description, price = excluded.price, currency = excluded.currency,
  stock = excluded.stock, source_version = excluded.source_version, deleted = excluded.deleted,
  event_time = excluded.event_time, applied_at = now()
  where p.source_version < excluded.source_version and p.product_id = any($11::uuid[])
returning p.product_id, p.seller_id, p.stock, p.deleted`;

const STATS_SQL = `
insert into seller_stats as s (seller_id, product_count, total_stock)
select seller_id, product_count, total_stock
  from unnest($1::uuid[], $2::int[], $3::bigint[]) as d(seller_id, product_count, total_stock)
  order by seller_id
on conflict (seller_id) do update set product_count = s.product_count + excluded.product_count,
  total_stock = s.total_stock + excluded.total_stock`;

/** Rows only vanish from product_search if someone deletes them; one rerun is what concurrency needs. */
const MAX_ATTEMPTS = 3;

interface StoredRow extends ProjectedRow {
  product_id: string;
  source_version: number;
}
interface WrittenRow extends ProjectedRow {
  product_id: string;
}

/**
 * Moves the read models to the state `rows` describe, with set-based statements (one lock, one
 * write and one stats statement for the lot), unless they already reflect the same or a newer version
 * of a product: replays, reordering and concurrent transactions never move them backwards. A deleted
 * product stays as a tombstone so an older event cannot bring it back. `seller_stats` changes by
 * exactly what the writes changed, so a stale or duplicate event changes nothing and concurrent
 * events of one product never count it twice. Run it inside a READ COMMITTED transaction (the inbox's).
 * @returns per row, in order: `applied` if its version is newer than what was stored (it was written,
 *   or a newer row of its product in `rows` was), else `stale`.
 * @throws the database's error; an Error if a product's row keeps vanishing under it.
 */
export async function projectRows(tx: PoolClient, rows: readonly ProductRow[]): Promise<ProjectionOutcome[]> {
  let todo = newestPerProduct(rows);
  const stored = new Map<string, StoredRow | null>();
  const changes: [ProjectedRow | undefined, ProjectedRow | undefined][] = [];
  for (let attempt = 1; todo.length > 0; attempt++) {
    if (attempt > MAX_ATTEMPTS) {
      throw new Error(
        `failed to project product(s) ${todo.map((r) => r.productId).join(', ')}: neither written nor found in ${MAX_ATTEMPTS} attempts`,
      );
    }
    const ids = todo.map((r) => r.productId);
    const locked = await tx.query<StoredRow>(LOCK_SQL, [ids]);
    const previous = new Map(locked.rows.map((r) => [r.product_id, r]));
    const { rows: written } = await tx.query<WrittenRow>(WRITE_SQL, [
      ids,
      todo.map((r) => r.sellerId),
      todo.map((r) => r.title),
      todo.map((r) => r.description),
      todo.map((r) => r.price),
      todo.map((r) => r.currency),
      todo.map((r) => r.stock),
      todo.map((r) => r.version),
      todo.map((r) => r.deleted),
      todo.map((r) => r.eventTime),
      [...previous.keys()],
    ]);
    const writes = new Map(written.map((r) => [r.product_id, r]));
    const again: ProductRow[] = [];
    for (const row of todo) {
      const before = previous.get(row.productId);
      const after = writes.get(row.productId);
      // Neither there nor written: committed concurrently after the lock statement; look again.
      if (!before && !after) again.push(row);
      else {
        stored.set(row.productId, before ?? null);
        if (after) changes.push([before, after]);
      }
    }
    todo = again;
  }
  const deltas = sellerStatsDelta(...changes);
  if (deltas.length > 0) {
    await tx.query(STATS_SQL, [
      deltas.map((d) => d.sellerId),
      deltas.map((d) => d.productCount),
      deltas.map((d) => d.totalStock),
    ]);
  }
  return rows.map((row) => {
    const before = stored.get(row.productId);
    return before && before.source_version >= row.version ? 'stale' : 'applied';
  });
}
