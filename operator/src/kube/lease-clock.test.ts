import { LeaseObserver, RenewDeadline, nextLeaseRecord } from './lease-clock.js';
import type { LeaseRecord } from './lease-clock.js';

const fakeClock = (start = 1_000) => {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
};

const heldBy = (holder: string, renewTime: string, extra: Partial<LeaseRecord> = {}): LeaseRecord => ({
  holderIdentity: holder,
  leaseDurationSeconds: 15,
  acquireTime: '2026-12-02T18:00:00.000000Z',
  renewTime,
  leaseTransitions: 0,
  ...extra,
});

describe('LeaseObserver', () => {
  it('takes another holder’s lease only after it stayed unchanged for leaseDuration on the local clock', () => {
    const clock = fakeClock();
    const o = new LeaseObserver(clock.now);
    const record = heldBy('a', '2026-12-02T18:00:01.000000Z');
    o.observe(record);
    expect(o.mayTake(record, 'b', 15_000)).toBe(false);
    clock.advance(14_999);
    o.observe(record);
    expect(o.mayTake(record, 'b', 15_000)).toBe(false);
    clock.advance(1);
    o.observe(record);
    expect(o.mayTake(record, 'b', 15_000)).toBe(true);
  });

  it('restarts the wait whenever the record changes, however old its renewTime looks', () => {
    const clock = fakeClock();
    const o = new LeaseObserver(clock.now);
    o.observe(heldBy('a', '2026-12-02T18:00:01.000000Z'));
    clock.advance(10_000);
    // The holder's clock is an hour behind ours: its renewTime means nothing to us, the change does.
    const renewed = heldBy('a', '2026-12-02T17:00:11.000000Z');
    o.observe(renewed);
    clock.advance(10_000);
    o.observe(renewed);
    expect(o.mayTake(renewed, 'b', 15_000)).toBe(false);
    clock.advance(5_000);
    o.observe(renewed);
    expect(o.mayTake(renewed, 'b', 15_000)).toBe(true);
  });

  it('does not take a lease whose renewTime is in our future until it stops changing (a holder clock ahead of ours)', () => {
    const clock = fakeClock();
    const o = new LeaseObserver(clock.now);
    for (let i = 0; i < 10; i++) {
      const r = heldBy('a', `2027-01-01T00:00:0${i}.000000Z`);
      o.observe(r);
      expect(o.mayTake(r, 'b', 15_000)).toBe(false);
      clock.advance(2_000);
    }
  });

  it('treats a renewTime read back as a Date like the string that was written (same instant, no change)', () => {
    const clock = fakeClock();
    const o = new LeaseObserver(clock.now);
    o.observe(heldBy('a', '2026-12-02T18:00:01.123000Z'));
    clock.advance(15_000);
    const readBack = heldBy('a', new Date('2026-12-02T18:00:01.123Z') as unknown as string, {
      acquireTime: new Date('2026-12-02T18:00:00.000Z'),
    });
    o.observe(readBack);
    expect(o.mayTake(readBack, 'b', 15_000)).toBe(true);
  });

  it('takes a released (holderless) lease at once and always renews its own', () => {
    const o = new LeaseObserver(fakeClock().now);
    const free: LeaseRecord = { leaseDurationSeconds: 1, renewTime: '2026-12-02T18:00:01.000000Z' };
    o.observe(free);
    expect(o.mayTake(free, 'b', 15_000)).toBe(true);
    const mine = heldBy('b', '2026-12-02T18:00:01.000000Z');
    o.observe(mine);
    expect(o.mayTake(mine, 'b', 15_000)).toBe(true);
  });

  it('uses its own lease duration when the record has none', () => {
    const clock = fakeClock();
    const o = new LeaseObserver(clock.now);
    const r = heldBy('a', '2026-12-02T18:00:01.000000Z', { leaseDurationSeconds: undefined });
    o.observe(r);
    clock.advance(3_999);
    expect(o.mayTake(r, 'b', 4_000)).toBe(false);
    clock.advance(1);
    expect(o.mayTake(r, 'b', 4_000)).toBe(true);
  });
});

describe('RenewDeadline', () => {
  it('counts from the start of the last successful renewal, on the local clock', () => {
    const clock = fakeClock();
    const d = new RenewDeadline(clock.now, 10_000);
    expect(d.remainingMs()).toBe(0); // never renewed: not leading
    const started = clock.now();
    clock.advance(3_000); // the request took 3 s
    d.renewed(started);
    expect(d.remainingMs()).toBe(7_000);
    clock.advance(7_000);
    expect(d.remainingMs()).toBe(0);
    d.renewed(clock.now());
    d.reset();
    expect(d.remainingMs()).toBe(0);
  });
});

describe('nextLeaseRecord', () => {
  const now = new Date('2026-12-02T18:40:00.123Z');
  it('a renewal keeps acquireTime and transitions; a takeover counts one transition', () => {
    const mine = heldBy('a', '2026-12-02T18:39:58.000000Z');
    expect(nextLeaseRecord(mine, 'a', now, 15_000)).toEqual({
      holderIdentity: 'a',
      leaseDurationSeconds: 15,
      renewTime: '2026-12-02T18:40:00.123000Z',
      acquireTime: '2026-12-02T18:00:00.000000Z',
      leaseTransitions: 0,
    });
    expect(nextLeaseRecord(mine, 'b', now, 4_000)).toMatchObject({
      holderIdentity: 'b',
      leaseDurationSeconds: 4,
      acquireTime: '2026-12-02T18:40:00.123000Z',
      leaseTransitions: 1,
    });
    expect(nextLeaseRecord({ leaseTransitions: 3 }, 'b', now, 4_000).leaseTransitions).toBe(3);
  });
});
