import type pg from 'pg';
import type { Logger } from '@shopstream/shared';
import type { RelaySignal } from '../domain/ports.js';

/** Sends one wake-up: `payload` is a shard number, or '' for every shard (the relay's listener). */
export type Notify = (payload: string) => Promise<void>;

/** `NOTIFY outbox_event` in a statement of its own, on a connection of `pool`. */
export const notifyThrough =
  (pool: Pick<pg.Pool, 'query'>): Notify =>
  async (payload) => {
    await pool.query({
      name: 'shopstream-notify-relays',
      text: `select pg_notify('outbox_event', $1::text)`,
      values: [payload],
    });
  };

/**
 * Wakes relays after writes committed, outside the writes: a NOTIFY inside a write transaction
 * holds PostgreSQL's cluster-wide notify lock through its commit, so every write would commit one
 * after another (DESIGN §4 item 6). Coalesced: at most one NOTIFY is in flight; writes while it is
 * out cause exactly one more after it. The payload names the shard when every write since the last
 * NOTIFY was in one shard, and is empty (wake for all shards) otherwise. A failed NOTIFY is dropped:
 * the relays' polling finds the events a little later.
 */
export class RelayWakeup implements RelaySignal {
  /** Shards written since the last NOTIFY was sent: none, one, or several ('all'). */
  private pending: number | 'all' | undefined;
  private inFlight: Promise<void> | undefined;

  constructor(
    private readonly notify: Notify,
    private readonly log: Logger,
  ) {}

  eventsCommitted(shard: number): void {
    this.pending = this.pending === undefined || this.pending === shard ? shard : 'all';
    this.inFlight ??= this.drain();
  }

  /** Resolves when no NOTIFY is in flight or owed (for shutdown and tests). */
  async settled(): Promise<void> {
    await this.inFlight;
  }

  private async drain(): Promise<void> {
    while (this.pending !== undefined) {
      const payload = this.pending === 'all' ? '' : String(this.pending);
      this.pending = undefined;
      try {
        await this.notify(payload);
      } catch (err) {
        this.log.debug({ err, payload }, 'relay wake-up not sent; relays will poll');
      }
    }
    this.inFlight = undefined;
  }
}
