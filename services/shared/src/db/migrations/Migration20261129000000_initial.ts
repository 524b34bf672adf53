import { Migration } from '@mikro-orm/migrations';

/** product, outbox_event (with the relay's partial index) and idempotency_key: DESIGN §2. */
export class Migration20261129000000_initial extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "product" (
      "id" uuid not null, "seller_id" uuid not null, "title" text not null, "description" text null,
      "price" numeric(12,2) not null, "currency" char(3) not null default 'USD', "stock" int not null,
      "version" int not null default 1, "created_at" timestamptz not null, "updated_at" timestamptz not null,
      "deleted_at" timestamptz null,
      constraint "product_pkey" primary key ("id"),
      constraint product_price_positive check (price > 0),
      constraint product_stock_non_negative check (stock >= 0),
      constraint product_title_length check ((char_length(title) >= 1) and (char_length(title) <= 200)));`);
    this.addSql(`create index "product_seller_id_id_idx" on "product" ("seller_id", "id");`);

    this.addSql(`create table "outbox_event" (
      "id" uuid not null, "seq" bigserial, "aggregate_type" text not null, "aggregate_id" uuid not null,
      "aggregate_version" int not null, "event_type" text not null, "topic" text not null, "shard" smallint not null,
      "payload" jsonb not null, "headers" jsonb not null,
      "status" text check ("status" in ('PENDING', 'PUBLISHED', 'DEAD')) not null default 'PENDING',
      "attempts" int not null default 0, "next_attempt_at" timestamptz not null default now(), "last_error" text null,
      "created_at" timestamptz not null default now(), "published_at" timestamptz null, "kafka_partition" int null,
      "kafka_offset" bigint null,
      constraint "outbox_event_pkey" primary key ("id"));`);
    this.addSql(
      `create index "outbox_event_pending_idx" on "outbox_event" ("shard", "seq") where "status" = 'PENDING';`,
    );
    this.addSql(`alter table "outbox_event" add constraint "outbox_event_aggregate_version_uq"
      unique ("aggregate_type", "aggregate_id", "aggregate_version");`);

    this.addSql(`create table "idempotency_key" (
      "seller_id" uuid not null, "key" text not null, "request_hash" text not null, "response" jsonb not null,
      "created_at" timestamptz not null default now(),
      constraint "idempotency_key_pkey" primary key ("seller_id", "key"));`);
    this.addSql(`create index "idempotency_key_created_at_idx" on "idempotency_key" ("created_at");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "idempotency_key";`);
    this.addSql(`drop table if exists "outbox_event";`);
    this.addSql(`drop table if exists "product";`);
  }
}
