import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261129000000_initial } from './Migration20261129000000_initial.js';
import { Migration20261129010000_relay } from './Migration20261129010000_relay.js';
import { Migration20261129020000_pending_seq_index } from './Migration20261129020000_pending_seq_index.js';
import { Migration20261129030000_consumer } from './Migration20261129030000_consumer.js';
import { Migration20261202000000_relay_config } from './Migration20261202000000_relay_config.js';
import { Migration20261202010000_outbox_subtree } from './Migration20261202010000_outbox_subtree.js';
import { Migration20261202020000_inbox_retention } from './Migration20261202020000_inbox_retention.js';
import { Migration20261203000000_outbox_hot_path } from './Migration20261203000000_outbox_hot_path.js';

/** Every migration, in order. A new migration is a new file here plus one line in this list. */
export const migrationsList: MigrationObject[] = [
  { name: 'Migration20261129000000_initial', class: Migration20261129000000_initial },
  { name: 'Migration20261129010000_relay', class: Migration20261129010000_relay },
  { name: 'Migration20261129020000_pending_seq_index', class: Migration20261129020000_pending_seq_index },
  { name: 'Migration20261129030000_consumer', class: Migration20261129030000_consumer },
  { name: 'Migration20261202000000_relay_config', class: Migration20261202000000_relay_config },
  { name: 'Migration20261202010000_outbox_subtree', class: Migration20261202010000_outbox_subtree },
  { name: 'Migration20261202020000_inbox_retention', class: Migration20261202020000_inbox_retention },
  { name: 'Migration20261203000000_outbox_hot_path', class: Migration20261203000000_outbox_hot_path },
];
