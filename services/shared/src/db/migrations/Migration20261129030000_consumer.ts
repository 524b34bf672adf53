import { Migration } from '@mikro-orm/migrations';

/**
 * Consumer side (DESIGN §2): the inbox `processed_event` that makes every event take effect once
 * per consumer group, and the read models it maintains — `product_search` (full text, with the
 * version it reflects, and tombstones for deleted products so an old event can never resurrect
 * one) and `seller_stats`.
 */
export class Migration20261129030000_consumer extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "processed_event" (
      "consumer_group" text not null, "event_id" uuid not null, "processed_at" timestamptz not null default now(),
      constraint "processed_event_pkey" primary key ("consumer_group", "event_id"));`);
    this.addSql(`create table "product_search" (
      "product_id" uuid not null, "seller_id" uuid not null, "title" text not null, "description" text null,
      "price" numeric(12,2) not null, "currency" char(3) not null, "stock" int not null,
      "search" tsvector generated always as (
        setweight(to_tsvector('english', "title"), 'A') || setweight(to_tsvector('english', coalesce("description", '')), 'B')
      ) stored,
      "source_version" int not null, "deleted" boolean not null default false,
      "event_time" timestamptz not null, "applied_at" timestamptz not null default now(),
      constraint "product_search_pkey" primary key ("product_id"));`);
    this.addSql(`create index "product_search_search_idx" on "product_search" using gin ("search");`);
    this.addSql(`create index "product_search_seller_idx" on "product_search" ("seller_id");`);
    this.addSql(`create index "product_search_event_time_idx" on "product_search" ("event_time");`);
    this.addSql(`create table "seller_stats" (
      "seller_id" uuid not null, "product_count" int not null default 0, "total_stock" bigint not null default 0,
      constraint "seller_stats_pkey" primary key ("seller_id"));`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "seller_stats";`);
    this.addSql(`drop table if exists "product_search";`);
    this.addSql(`drop table if exists "processed_event";`);
  }
}
