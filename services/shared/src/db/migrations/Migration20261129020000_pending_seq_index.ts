import { Migration } from '@mikro-orm/migrations';

/**
 * The relay claims "the oldest due PENDING rows of its shards" ordered by seq. With only the
 * (shard, seq) index, PostgreSQL sorted every pending row for each claim (80 ms at 100k pending);
 * walking a seq-ordered index and filtering by shard reads about batch × (64 / owned shards) rows.
 */
export class Migration20261129020000_pending_seq_index extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create index "outbox_event_pending_seq_idx" on "outbox_event_unpublished" ("seq") where "status" = 'PENDING';`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists "outbox_event_pending_seq_idx";`);
  }
}
