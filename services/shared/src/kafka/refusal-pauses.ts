/** A refusal being waited out: the sentence to repeat, how many in a row, and until when. */
export interface RefusalPause {
  message: string;
  count: number;
  untilMs: number;
}

export interface RefusalPausesOptions {
  /** The pause after a first refusal; each further one doubles it, up to `maxMs`. */
  baseMs?: number;
  maxMs?: number;
  now?: () => number;
}

/**
 * Kafka refusing who a client is (its login, its certificate, or a broker it does not trust):
 * retrying cannot help until the configuration or the broker changes, and every try is one more
 * failed login in the broker's log. So after a refusal a client does not log in again with the same
 * material for a pause, 10 s doubling per refusal up to 5 min by default, and repeats the refusal's
 * sentence meanwhile. Kept per key (the operator's admin pool: one per target; the API: one).
 */
export class RefusalPauses {
  private readonly pauses = new Map<string, RefusalPause>();
  private readonly baseMs: number;
  private readonly maxMs: number;
  private readonly now: () => number;

  constructor(options: RefusalPausesOptions = {}) {
    this.baseMs = options.baseMs ?? 10_000;
    this.maxMs = options.maxMs ?? 5 * 60_000;
    this.now = options.now ?? Date.now;
  }

  /** The pause `key` is in now, if any: no login before its `untilMs`. */
  active(key: string): RefusalPause | undefined {
    const pause = this.pauses.get(key);
    return pause && this.now() < pause.untilMs ? pause : undefined;
  }

  /**
   * Records a refusal of `key` and returns the pause it is in. Requests that failed on one refusal
   * together (concurrent users of one failed login) count it once.
   */
  refused(key: string, message: string): RefusalPause {
    const current = this.active(key);
    if (current) return current;
    const count = (this.pauses.get(key)?.count ?? 0) + 1;
    const pause = {
      message,
      count,
      untilMs: this.now() + Math.min(this.maxMs, this.baseMs * 2 ** Math.min(count - 1, 30)),
    };
    this.pauses.set(key, pause);
    return pause;
  }

  /** Kafka took `key`'s identity: a later refusal pauses for the base time again. */
  succeeded(key: string): void {
    this.pauses.delete(key);
  }

  /** Forgets pauses that ended before `horizonMs`: their target was fixed or will count afresh. */
  forgetEndedBefore(horizonMs: number): void {
    for (const [key, pause] of this.pauses) if (pause.untilMs < horizonMs) this.pauses.delete(key);
  }
}
