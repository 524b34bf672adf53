import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261129000000_initial } from './Migration20261129000000_initial.js';
import { Migration20261129010000_relay } from './Migration20261129010000_relay.js';
import { Migration20261129020000_pending_seq_index } from './Migration20261129020000_pending_seq_index.js';

/** Every migration, in order. A new migration is a new file here plus one line in this list. */
export const migrationsList: MigrationObject[] = [
  { name: 'Migration20261129000000_initial', class: Migration20261129000000_initial },
  { name: 'Migration20261129010000_relay', class: Migration20261129010000_relay },
  { name: 'Migration20261129020000_pending_seq_index', class: Migration20261129020000_pending_seq_index },
];
