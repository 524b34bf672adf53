import { Migration } from '@mikro-orm/migrations';

/**
 * Only what the hot paths need on `outbox_event_unpublished`, the table every API write inserts
 * into and every relay mark deletes from (issue 18):
 * - `payload` becomes `json`: PostgreSQL keeps the API's text as it came, and the relay sends that
 *   text as the record's value without parsing and serialising it again. It is still validated as
 *   JSON on insert, and `->`/`->>` work as before.
 * - The root's `(id)` index duplicated the primary key on the unpublished partition (one more index
 *   to write per insert and to clean per published row). Lookups by id on the published side keep
 *   an `(id)` index of their own on `outbox_event_published`, which every hourly partition gets
 *   when it is attached.
 * - `(shard, seq) where PENDING` is gone: the relay's claim walks `(seq) where PENDING`, and the
 *   backlog counts read the same partial index.
 * Left: the primary key, the (aggregate, version) uniqueness, `(aggregate_id, seq)` for the
 * per-product head-of-line check, `(seq) where PENDING` for the claim, and the small partial index
 * on DEAD/SKIPPED rows for their purge.
 * Cost, once: the type change rewrites the table tree under an ACCESS EXCLUSIVE lock.
 */
export class Migration20261203000000_outbox_hot_path extends Migration {
  override async up(): Promise<void> {
    this.addSql(`drop index if exists "outbox_event_id_idx";`);
    this.addSql(`create index "outbox_event_published_id_idx" on "outbox_event_published" ("id");`);
    this.addSql(`drop index if exists "outbox_event_pending_idx";`);
    this.addSql(`alter table "outbox_event" alter column "payload" type json using "payload"::json;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "outbox_event" alter column "payload" type jsonb using "payload"::jsonb;`);
    this.addSql(
      `create index "outbox_event_pending_idx" on "outbox_event_unpublished" ("shard", "seq") where "status" = 'PENDING';`,
    );
    this.addSql(`drop index if exists "outbox_event_published_id_idx";`);
    this.addSql(`create index "outbox_event_id_idx" on "outbox_event" ("id");`);
  }
}
