import { Migration } from '@mikro-orm/migrations';

/**
 * Relay support (DESIGN §2, §4):
 * - `outbox_event` becomes a table partitioned by `published_at`: unpublished rows (PENDING, DEAD,
 *   SKIPPED: published_at is null) live in the default partition `outbox_event_unpublished`, which
 *   stays small; publishing moves a row into an hourly partition, and retention drops whole hourly
 *   partitions — no row-by-row DELETE, no bloat. PostgreSQL cannot enforce a primary key on a
 *   partitioned table without the (nullable) partition key, so uniqueness of ids and of
 *   (aggregate, version) is enforced on the unpublished partition, where every row is inserted.
 * - `relay_shard`: which relay owns which shard, with a fencing epoch and a lease.
 * - `relay_member`: live relays (heartbeats), so each can compute its fair share of shards.
 */
export class Migration20261129010000_relay extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "outbox_event" rename to "outbox_event_old";`);
    this.addSql(`drop index "outbox_event_pending_idx";`);
    this.addSql(`alter sequence "outbox_event_seq_seq" owned by none;`);
    this.addSql(`create table "outbox_event" (
      "id" uuid not null, "seq" bigint not null default nextval('outbox_event_seq_seq'),
      "aggregate_type" text not null, "aggregate_id" uuid not null, "aggregate_version" int not null,
      "event_type" text not null, "topic" text not null, "shard" smallint not null,
      "payload" jsonb not null, "headers" jsonb not null,
      "status" text check ("status" in ('PENDING', 'PUBLISHED', 'DEAD', 'SKIPPED')) not null default 'PENDING',
      "attempts" int not null default 0, "next_attempt_at" timestamptz not null default now(), "last_error" text null,
      "created_at" timestamptz not null default now(), "published_at" timestamptz null,
      "kafka_partition" int null, "kafka_offset" bigint null
    ) partition by range ("published_at");`);
    this.addSql(`alter sequence "outbox_event_seq_seq" owned by "outbox_event"."seq";`);
    this.addSql(`create table "outbox_event_unpublished" partition of "outbox_event" default;`);
    this.addSql(
      `alter table "outbox_event_unpublished" add constraint "outbox_event_unpublished_pkey" primary key ("id");`,
    );
    this
      .addSql(`alter table "outbox_event_unpublished" add constraint "outbox_event_unpublished_aggregate_version_uq"
      unique ("aggregate_type", "aggregate_id", "aggregate_version");`);
    // The relay's claim reads only this: pending rows of its shards in commit order.
    this.addSql(
      `create index "outbox_event_pending_idx" on "outbox_event_unpublished" ("shard", "seq") where "status" = 'PENDING';`,
    );
    // Per-product head-of-line checks and the admin's product filter.
    this.addSql(
      `create index "outbox_event_unpublished_aggregate_idx" on "outbox_event_unpublished" ("aggregate_id", "seq");`,
    );
    this.addSql(`create index "outbox_event_id_idx" on "outbox_event" ("id");`);
    this
      .addSql(`insert into "outbox_event" select "id", "seq", "aggregate_type", "aggregate_id", "aggregate_version",
      "event_type", "topic", "shard", "payload", "headers", "status", "attempts", "next_attempt_at", "last_error",
      "created_at", "published_at", "kafka_partition", "kafka_offset" from "outbox_event_old";`);
    this.addSql(`drop table "outbox_event_old";`);

    this.addSql(`create table "relay_shard" (
      "shard" smallint not null, "owner" text null, "epoch" bigint not null default 0, "lease_until" timestamptz null,
      constraint "relay_shard_pkey" primary key ("shard"));`);
    this.addSql(`create table "relay_member" (
      "owner" text not null, "started_at" timestamptz not null default now(), "lease_until" timestamptz not null,
      constraint "relay_member_pkey" primary key ("owner"));`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "relay_member";`);
    this.addSql(`drop table if exists "relay_shard";`);
  }
}
