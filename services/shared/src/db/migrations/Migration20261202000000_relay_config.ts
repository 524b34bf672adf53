import { Migration } from '@mikro-orm/migrations';

/**
 * SHARD_COUNT moves into the database (DESIGN §2): `relay_config` holds one row. A database that
 * already has shard rows keeps their number; an empty one gets its row from the first API or relay
 * that starts (its configured SHARD_COUNT, 64 by default). Nothing else may decide it afterwards.
 */
export class Migration20261202000000_relay_config extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "relay_config" (
      "id" smallint not null default 1, "shard_count" smallint not null, "created_at" timestamptz not null default now(),
      constraint "relay_config_pkey" primary key ("id"),
      constraint "relay_config_single_row" check ("id" = 1),
      constraint "relay_config_shard_count_check" check ("shard_count" between 1 and 32767));`);
    this.addSql(
      `insert into "relay_config" ("shard_count") select count(*) from "relay_shard" having count(*) > 0;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "relay_config";`);
  }
}
