/** The fields of a Lease's spec that leader election reads and writes. */
export interface LeaseRecord {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: Date | string;
  renewTime?: Date | string;
  leaseTransitions?: number;
}

/** A monotonic clock in milliseconds (performance.now in production, a fake in tests). */
export type LocalClock = () => number;

// client-node reads MicroTimes as Dates and we write strings: compare both at millisecond precision.
const instant = (t: Date | string | undefined): string => (t === undefined ? '' : new Date(t).toISOString());

const keyOf = (r: LeaseRecord): string =>
  JSON.stringify([
    r.holderIdentity ?? '',
    r.leaseDurationSeconds ?? 0,
    instant(r.acquireTime),
    instant(r.renewTime),
    r.leaseTransitions ?? 0,
  ]);

/**
 * client-go's rule for when another holder's Lease has expired: the candidate remembers the record
 * it last saw and the time on its own clock when that record last changed; the lease is expired
 * once leaseDurationSeconds have passed on that clock without a change. The holder's renewTime is
 * only compared for equality, never with our clock, so clock skew between pods cannot hand the
 * lease to a second leader (or keep it from a successor).
 */
export class LeaseObserver {
  private observedKey: string | undefined;
  private observedAt = 0;

  constructor(private readonly now: LocalClock) {}

  /** Call with every record read from, or written to, the API server. */
  observe(record: LeaseRecord): void {
    const key = keyOf(record);
    if (key === this.observedKey) return;
    this.observedKey = key;
    this.observedAt = this.now();
  }

  /**
   * Whether `identity` may write `record` now: it is free (released), already ours, or unchanged
   * for its lease duration on our clock. Call `observe(record)` first.
   */
  mayTake(record: LeaseRecord, identity: string, fallbackDurationMs: number): boolean {
    const holder = record.holderIdentity;
    if (!holder || holder === identity) return true;
    const durationMs = record.leaseDurationSeconds ? record.leaseDurationSeconds * 1000 : fallbackDurationMs;
    return this.now() - this.observedAt >= durationMs;
  }
}

/**
 * The leader's side: it counts as leader only until renewDeadline has passed on its own clock
 * since the start of its last successful renewal. Starting the count when the request was sent
 * (not when it returned) keeps this window inside every candidate's lease window, which starts
 * when they see the renewed record.
 */
export class RenewDeadline {
  private renewedAt: number | undefined;

  constructor(
    private readonly now: LocalClock,
    private readonly renewDeadlineMs: number,
  ) {}

  renewed(attemptStartedAt: number): void {
    this.renewedAt = attemptStartedAt;
  }

  reset(): void {
    this.renewedAt = undefined;
  }

  /** Milliseconds left before the leader must stop acting; 0 when passed or never renewed. */
  remainingMs(): number {
    if (this.renewedAt === undefined) return 0;
    return Math.max(0, this.renewedAt + this.renewDeadlineMs - this.now());
  }
}

/**
 * Lease times are metav1.MicroTime, which the API server parses only with six fractional digits;
 * client-node 1.4.0 serialises Dates with three (HTTP 400). It passes strings through unchanged.
 */
export const microTime = (d: Date | string | undefined): Date | undefined => {
  if (d === undefined) return undefined;
  const iso = new Date(d).toISOString();
  return iso.replace(/\.(\d{3})Z$/, '.$1000Z') as unknown as Date;
};

/** The record `identity` writes when it acquires or renews `previous` at wall time `now`. */
export function nextLeaseRecord(
  previous: LeaseRecord | undefined,
  identity: string,
  now: Date,
  leaseDurationMs: number,
): LeaseRecord & { acquireTime?: Date; renewTime?: Date } {
  const holder = previous?.holderIdentity;
  const changed = holder !== identity;
  return {
    holderIdentity: identity,
    leaseDurationSeconds: Math.ceil(leaseDurationMs / 1000),
    // renewTime is informational (kubectl shows it): no reader compares it with a clock.
    renewTime: microTime(now),
    acquireTime: microTime(changed ? now : (previous?.acquireTime ?? now)),
    leaseTransitions: (previous?.leaseTransitions ?? 0) + (changed && holder ? 1 : 0),
  };
}
