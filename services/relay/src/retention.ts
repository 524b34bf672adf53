import type { Pool } from 'pg';
import type { Logger } from '@shopstream/shared';
import { OutboxMaintenance } from './outbox-maintenance.js';

/**
 * The former partition-only entry point, kept while callers move to `OutboxMaintenance` (see its
 * doc comment for the partition scheme and why it never blocks writers). `maintain` runs only the
 * partition steps of one maintenance run — never the purges — and, like every run, does not throw
 * and does not wait for a lock: what it could not do now is logged and done by a later call.
 * @deprecated use `new OutboxMaintenance(pool, log, settings).run()`.
 */
export class OutboxRetention {
  constructor(
    private readonly pool: Pool,
    private readonly log: Logger,
  ) {}

  /** @returns the partitions created and dropped by this call. */
  async maintain(options: {
    retentionHours: number;
    hoursAhead?: number;
    now?: Date;
  }): Promise<{ created: string[]; dropped: string[] }> {
    const maintenance = new OutboxMaintenance(this.pool, this.log, {
      retentionHours: options.retentionHours,
      ...(options.hoursAhead !== undefined ? { hoursAhead: options.hoursAhead } : {}),
    });
    const report = await maintenance.run({
      ...(options.now ? { now: options.now } : {}),
      steps: ['publishedDefault', 'createPartitions', 'dropPartitions'],
    });
    return { created: report.created, dropped: [...report.dropped].sort() };
  }
}
