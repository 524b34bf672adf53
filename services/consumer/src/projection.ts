import type { PoolClient } from 'pg';
import type { ProductEvent } from './event-envelope.js';

export type ProjectionOutcome = 'applied' | 'stale';

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
 * The `seller_stats` changes that turn the counts of `before` into those of `after` (a live row
 * counts one product and its stock for its seller; a tombstone or no row counts nothing). Use it
 * with the row a statement actually replaced and the row it actually wrote (and not at all when it
 * wrote nothing). A seller change moves the product between sellers. Sellers whose counts do not
 * change are left out; the rest are ordered by seller id, so concurrent writers lock them in one order.
 */
export function sellerStatsDelta(
  before: ProjectedRow | undefined,
  after: ProjectedRow | undefined,
): SellerStatsDelta[] {
  const bySeller = new Map<string, SellerStatsDelta>();
  const add = (row: ProjectedRow | undefined, sign: 1 | -1): void => {
    if (!row || row.deleted) return;
    const delta = bySeller.get(row.seller_id) ?? { sellerId: row.seller_id, productCount: 0, totalStock: 0 };
    delta.productCount += sign;
    delta.totalStock += sign * row.stock;
    bySeller.set(row.seller_id, delta);
  };
  add(before, -1);
  add(after, 1);
  return [...bySeller.values()]
    .filter((d) => d.productCount !== 0 || d.totalStock !== 0)
    .sort((a, b) => (a.sellerId < b.sellerId ? -1 : a.sellerId > b.sellerId ? 1 : 0));
}

/**
 * One statement that writes the event's row if it is newer than the stored one and returns the row
 * it replaced (`previous`, locked) and the row it wrote (`written`), both null when nothing was.
 *
 * `previous` is read `for update`, so under READ COMMITTED it is the latest committed version and
 * stays so until commit. The insert writes a new row only when none exists; on a conflict it updates
 * only when the stored version is older AND `previous` saw the row. The second condition matters when
 * the row was committed by a concurrent transaction after this statement's snapshot (two events of a
 * new product applied at once): the insert waits for that transaction, conflicts, but `previous`
 * cannot see the row, so the statement changes nothing and returns two nulls; the caller runs it again
 * with a new snapshot. Hence `written` is always paired with exactly the row it replaced.
 */
const UPSERT_SQL = `
with previous as materialized (
  select seller_id, stock, deleted from product_search where product_id = $1 for update
), written as (
  insert into product_search as p (product_id, seller_id, title, description, price, currency, stock,
    source_version, deleted, event_time, applied_at)
  values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, now())
  on conflict (product_id) do update set seller_id = excluded.seller_id, title = excluded.title,
    description = excluded.description, price = excluded.price, currency = excluded.currency,
    stock = excluded.stock, source_version = excluded.source_version, deleted = excluded.deleted,
    event_time = excluded.event_time, applied_at = now()
  where p.source_version < excluded.source_version and exists (select from previous)
  returning p.seller_id, p.stock, p.deleted
)
select (select to_json(r) from previous r) as previous, (select to_json(r) from written r) as written`;

const STATS_SQL = `
insert into seller_stats as s (seller_id, product_count, total_stock)
select seller_id, product_count, total_stock
  from unnest($1::uuid[], $2::int[], $3::bigint[]) as d(seller_id, product_count, total_stock)
  order by seller_id
on conflict (seller_id) do update set product_count = s.product_count + excluded.product_count,
  total_stock = s.total_stock + excluded.total_stock`;

/** Rows only vanish from product_search if someone deletes them; one rerun is what concurrency needs. */
const MAX_ATTEMPTS = 3;

/**
 * Moves the read models to the state `event` describes, unless they already reflect this or a
 * newer version of the product (replays, reordering and concurrent transactions never move them
 * backwards). A deleted product stays as a tombstone so an older event cannot bring it back.
 * `seller_stats` changes by exactly what the `product_search` write changed, so a stale or
 * duplicate event changes nothing and concurrent events of one product never count it twice.
 * Run it inside a READ COMMITTED transaction (the inbox's).
 * @throws the database's error; an Error if the product's row keeps vanishing under it.
 */
export async function projectProduct(
  tx: PoolClient,
  event: ProductEvent,
  alive: boolean,
): Promise<ProjectionOutcome> {
  const p = event.data;
  const params = [
    p.id,
    p.seller_id,
    p.title,
    p.description,
    p.price,
    p.currency,
    p.stock,
    event.aggregateVersion,
    !alive,
    event.time,
  ];
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const { rows } = await tx.query<{ previous: ProjectedRow | null; written: ProjectedRow | null }>(
      UPSERT_SQL,
      params,
    );
    const previous = rows[0]?.previous ?? undefined;
    const written = rows[0]?.written ?? undefined;
    if (!written && !previous) continue; // committed concurrently after our snapshot: look again
    if (!written) return 'stale';
    const deltas = sellerStatsDelta(previous, written);
    if (deltas.length > 0) {
      await tx.query(STATS_SQL, [
        deltas.map((d) => d.sellerId),
        deltas.map((d) => d.productCount),
        deltas.map((d) => d.totalStock),
      ]);
    }
    return 'applied';
  }
  throw new Error(
    `failed to project event ${event.id}: product ${p.id} was neither written nor found in ${MAX_ATTEMPTS} attempts`,
  );
}
