import { Migration } from '@mikro-orm/migrations';

const COLUMNS = `"id", "seq", "aggregate_type", "aggregate_id", "aggregate_version", "event_type", "topic", "shard",
  "payload", "headers", "status", "attempts", "next_attempt_at", "last_error", "created_at", "published_at",
  "kafka_partition", "kafka_offset"`;

/**
 * Retention must never block writers (DESIGN §2). Until now `outbox_event` was range-partitioned by
 * `published_at` with the unpublished rows in its DEFAULT partition, so every hourly partition
 * created or attached took an ACCESS EXCLUSIVE lock on the very table the API inserts into (and
 * scanned it under that lock), and dropping one locked the parent itself.
 *
 * Two levels instead, so that the tables partition maintenance locks are never the ones the API
 * writes to:
 *
 *     outbox_event                      partition by list ((published_at is null))
 *     ├── outbox_event_unpublished      for values in (true)   PENDING, DEAD, SKIPPED — every insert
 *     └── outbox_event_published        for values in (false)  partition by range (published_at)
 *         ├── outbox_event_pYYYYMMDDHH  hourly, created ahead and dropped whole by the relay
 *         └── outbox_event_published_default   default: rows of an hour with no partition (none
 *                                              while maintenance keeps up), moved out by it
 *
 * An INSERT into `outbox_event` locks only the root and `outbox_event_unpublished` (tuple routing
 * opens partitions lazily), and a query with `published_at is null` is pruned to that partition, so
 * ATTACH/DETACH/DROP on `outbox_event_published` and its children never wait for or hold up an API
 * write. Names, columns, keys and indexes of `outbox_event_unpublished` and of the hourly partitions
 * do not change.
 *
 * One-time cost of this migration: attaching `outbox_event_published` verifies every published row
 * (a read of the retained history) inside the migration's transaction.
 */
export class Migration20261202010000_outbox_subtree extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "outbox_event" detach partition "outbox_event_unpublished";`);
    this.addSql(`alter table "outbox_event" rename to "outbox_event_published";`);
    this.addSql(`alter index "outbox_event_id_idx" rename to "outbox_event_published_id_idx";`);
    this.addSql(`alter sequence "outbox_event_seq_seq" owned by none;`);
    this.addSql(`create table "outbox_event" (
      "id" uuid not null, "seq" bigint not null default nextval('outbox_event_seq_seq'),
      "aggregate_type" text not null, "aggregate_id" uuid not null, "aggregate_version" int not null,
      "event_type" text not null, "topic" text not null, "shard" smallint not null,
      "payload" jsonb not null, "headers" jsonb not null,
      "status" text not null default 'PENDING',
      "attempts" int not null default 0, "next_attempt_at" timestamptz not null default now(), "last_error" text null,
      "created_at" timestamptz not null default now(), "published_at" timestamptz null,
      "kafka_partition" int null, "kafka_offset" bigint null
    ) partition by list (("published_at" is null));`);
    // ATTACH matches CHECK constraints by name: the root's status check takes the name the old
    // parent's has (outbox_event_status_check1 where the relay migration created it).
    this.addSql(`do $$
      declare name text;
      begin
        select conname into name from pg_constraint
        where conrelid = 'outbox_event_published'::regclass and contype = 'c'
          and pg_get_constraintdef(oid) like '%status%' limit 1;
        execute format('alter table outbox_event add constraint %I check (status in (''PENDING'', ''PUBLISHED'', ''DEAD'', ''SKIPPED''))',
                       coalesce(name, 'outbox_event_status_check'));
      end $$;`);
    this.addSql(`alter sequence "outbox_event_seq_seq" owned by "outbox_event"."seq";`);
    this.addSql(
      `create table "outbox_event_published_default" partition of "outbox_event_published" default;`,
    );
    // Published rows that sat in the old default partition (an hour with no partition yet).
    this.addSql(`insert into "outbox_event_published" (${COLUMNS})
      select ${COLUMNS} from "outbox_event_unpublished" where "published_at" is not null;`);
    this.addSql(`delete from "outbox_event_unpublished" where "published_at" is not null;`);
    this.addSql(
      `alter table "outbox_event" attach partition "outbox_event_published" for values in (false);`,
    );
    this.addSql(
      `alter table "outbox_event" attach partition "outbox_event_unpublished" for values in (true);`,
    );
    // Attaches the existing per-partition (id) indexes rather than building new ones.
    this.addSql(`create index "outbox_event_id_idx" on "outbox_event" ("id");`);
    // Maintenance finds rows of the published default by hour, and old DEAD/SKIPPED rows, by index.
    this.addSql(
      `create index "outbox_event_published_default_published_at_idx" on "outbox_event_published_default" ("published_at");`,
    );
    this.addSql(`create index "outbox_event_unpublished_done_idx" on "outbox_event_unpublished" ("created_at")
      where "status" in ('DEAD', 'SKIPPED');`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists "outbox_event_unpublished_done_idx";`);
    this.addSql(`alter table "outbox_event" detach partition "outbox_event_unpublished";`);
    this.addSql(`alter table "outbox_event" detach partition "outbox_event_published";`);
    this.addSql(`alter sequence "outbox_event_seq_seq" owned by none;`);
    this.addSql(`drop table "outbox_event";`);
    this.addSql(`alter table "outbox_event_published" rename to "outbox_event";`);
    this.addSql(`alter index "outbox_event_published_id_idx" rename to "outbox_event_id_idx";`);
    this.addSql(`alter sequence "outbox_event_seq_seq" owned by "outbox_event"."seq";`);
    this.addSql(`alter table "outbox_event" detach partition "outbox_event_published_default";`);
    this.addSql(`insert into "outbox_event_unpublished" (${COLUMNS})
      select ${COLUMNS} from "outbox_event_published_default";`);
    this.addSql(`drop table "outbox_event_published_default";`);
    this.addSql(`alter table "outbox_event" attach partition "outbox_event_unpublished" default;`);
  }
}
