import { magnitude, statusWorthWriting } from './status-change.js';
import type { ProductPipelineStatus } from './pipeline-types.js';

const condition = (status: 'True' | 'False', message: string) => ({
  type: 'RelayScaled',
  status,
  reason: 'Scaled',
  message,
  observedGeneration: 1,
  lastTransitionTime: '2026-12-03T00:00:00Z',
});

describe('statusWorthWriting', () => {
  const base: ProductPipelineStatus = {
    observedGeneration: 1,
    conditions: [condition('True', '2 replica(s) for 150 claimable, oldest 3s')],
    relay: { pendingEvents: 150, oldestPendingAgeSeconds: 3, desiredReplicas: 2, currentReplicas: 2 },
    consumers: [{ groupId: 'g', state: 'Stable', lag: 40, members: 2 }],
  };
  const fresh = 1_000;

  it('skips a status equal to the stored one, null and absent alike', () => {
    expect(statusWorthWriting(base, structuredClone(base), Infinity)).toBe(false);
    expect(statusWorthWriting({ ...base, relay: undefined }, { ...base, relay: null }, Infinity)).toBe(false);
  });

  it('skips volatile numbers within their magnitude while the stored status is fresh, not after', () => {
    const next = structuredClone(base);
    next.relay!.pendingEvents = 140;
    next.relay!.oldestPendingAgeSeconds = 2;
    next.consumers![0]!.lag = 35;
    next.conditions![0]!.message = '2 replica(s) for 140 claimable, oldest 2s';
    expect(statusWorthWriting(base, next, fresh)).toBe(false);
    expect(statusWorthWriting(base, next, 60_000)).toBe(true);
    expect(statusWorthWriting(base, next, Infinity)).toBe(true);
  });

  it('writes a new magnitude, a drained backlog, or any other change at once', () => {
    const bigger = structuredClone(base);
    bigger.relay!.pendingEvents = 300;
    expect(statusWorthWriting(base, bigger, fresh)).toBe(true);
    const drained = structuredClone(base);
    drained.consumers![0]!.lag = 0;
    expect(statusWorthWriting(base, drained, fresh)).toBe(true);
    const scaled = structuredClone(base);
    scaled.relay!.desiredReplicas = 3;
    expect(statusWorthWriting(base, scaled, fresh)).toBe(true);
    const worded = structuredClone(base);
    worded.conditions![0]!.message = '2 replica(s) for 150 claimable; scale-down held';
    expect(statusWorthWriting(base, worded, fresh)).toBe(true);
    const flipped = structuredClone(base);
    flipped.conditions![0]!.status = 'False';
    expect(statusWorthWriting(base, flipped, fresh)).toBe(true);
  });

  it('puts numbers into powers of two', () => {
    expect([0, 1, 2, 3, 4, 7, 8, 500, 511, 512].map(magnitude)).toEqual([0, 1, 2, 2, 3, 3, 4, 9, 9, 10]);
    expect(magnitude(undefined)).toBeUndefined();
  });
});
