import type { NewOutboxEvent, ProductSnapshot } from '@shopstream/shared';
import type { Product } from '../domain/ports.js';

/**
 * The product write path's SQL, each a named prepared statement: node-postgres parses it once per
 * connection, later writes only bind values. Every write is one statement, so the product, its
 * outbox event and the idempotency key commit together in PostgreSQL's implicit transaction.
 * Outbox timestamps the relay compares with now() come from the database clock (DESIGN §2).
 */

/** Parameters $1–$11 of the inserts: the product row, as the domain stamped it. */
export const productValues = (p: Product): unknown[] => [
  p.id,
  p.seller_id,
  p.title,
  p.description,
  p.price,
  p.currency,
  p.stock,
  p.version,
  p.created_at,
  p.updated_at,
  p.deleted_at,
];

/** Parameters $1–$9 of the update: the columns a change may move, plus the owner as a guard. */
export const productChangeValues = (p: Product): unknown[] => [
  p.id,
  p.seller_id,
  p.title,
  p.description,
  p.price,
  p.currency,
  p.stock,
  p.version,
  p.updated_at,
  p.deleted_at,
];

/** The event's columns, as buildProductEvent made them, following the product's parameters. */
export const eventValues = (e: NewOutboxEvent): unknown[] => [
  e.id,
  e.aggregateType,
  e.aggregateId,
  e.aggregateVersion,
  e.eventType,
  e.topic,
  e.shard,
  JSON.stringify(e.payload),
  JSON.stringify(e.headers),
];

/** The outbox columns and, from parameter `$n` on, their values (`eventValues`); the payload as `json`, kept as written and sent to Kafka as is. */
const outboxColumns = `insert into outbox_event (id, aggregate_type, aggregate_id, aggregate_version,
    event_type, topic, shard, payload, headers, status, attempts, next_attempt_at, created_at)`;
const outboxSelect = (n: number): string =>
  `select $${n}::uuid, $${n + 1}::text, $${n + 2}::uuid, $${n + 3}::int, $${n + 4}::text, $${n + 5}::text,
    $${n + 6}::smallint, $${n + 7}::json, $${n + 8}::jsonb, 'PENDING', 0, now(), now()`;

const productColumns = `insert into product (id, seller_id, title, description, price, currency, stock,
    version, created_at, updated_at, deleted_at)`;
const productSelect = `select $1::uuid, $2::uuid, $3::text, $4::text, $5::numeric, $6::text, $7::int,
    $8::int, $9::timestamptz, $10::timestamptz, $11::timestamptz`;

/** A product and its `product.created` event. */
export const CREATE_PRODUCT = {
  name: 'shopstream-create-product',
  text: `with product_row as (${productColumns} ${productSelect})
    ${outboxColumns} ${outboxSelect(12)}`,
};

/**
 * The same, only if the idempotency key ($21–$25) can be taken: it is free, or its record is older
 * than the replay window ($25 seconds, on the database clock) and is replaced. A live record —
 * also one a concurrent request has just committed, which ON CONFLICT waits for — leaves `taken`
 * false and nothing written.
 */
export const CREATE_PRODUCT_WITH_KEY = {
  name: 'shopstream-create-product-with-key',
  text: `with key_row as (
      insert into idempotency_key (seller_id, key, request_hash, response, created_at)
      values ($21::uuid, $22::text, $23::text, $24::jsonb, now())
      on conflict (seller_id, key) do update
        set request_hash = excluded.request_hash, response = excluded.response, created_at = excluded.created_at
        where idempotency_key.created_at <= now() - make_interval(secs => $25::float8)
      returning 1
    ), product_row as (
      ${productColumns} ${productSelect} where exists (select from key_row)
    ), event_row as (
      ${outboxColumns} ${outboxSelect(12)} where exists (select from key_row)
    )
    select exists (select from key_row) as taken`,
};

/**
 * The next version ($1–$10) and its event ($11–$19), only if the product is still at version $20:
 * an optimistic lock without holding a row lock between the read and this write. Under READ
 * COMMITTED a concurrent update is waited for and the condition re-checked on its result, so at
 * most one writer moves a product from one version; `written` says whether this one did.
 */
export const UPDATE_PRODUCT = {
  name: 'shopstream-update-product',
  text: `with product_row as (
      update product set title = $3::text, description = $4::text, price = $5::numeric, currency = $6::text,
        stock = $7::int, version = $8::int, updated_at = $9::timestamptz, deleted_at = $10::timestamptz
      where id = $1::uuid and seller_id = $2::uuid and version = $20::int
      returning 1
    ), event_row as (
      ${outboxColumns} ${outboxSelect(11)} where exists (select from product_row)
    )
    select exists (select from product_row) as written`,
};

/** One product as the API shows it (the event snapshot's shape), dates as `Date.toISOString()` writes them. */
export type ProductRecord = ProductSnapshot;

const isoDate = (column: string): string =>
  `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as ${column}`;

export const SELECT_PRODUCT = {
  name: 'shopstream-select-product',
  text: `select id, seller_id, title, description, price::text as price, currency, stock, version,
      ${isoDate('created_at')}, ${isoDate('updated_at')}, ${isoDate('deleted_at')}
    from product where id = $1::uuid`,
};
