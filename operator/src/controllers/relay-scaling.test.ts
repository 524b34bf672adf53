import {
  ScaleDownStabilizer,
  blockedBacklogMessage,
  clampToShards,
  recommendReplicas,
  scalingPolicy,
} from './relay-scaling.js';
import type { Backlog } from './relay-scaling.js';

/** A backlog of claimable rows only. */
const claimable = (pending: number, oldestPendingAgeSeconds: number): Backlog => ({
  pending,
  oldestPendingAgeSeconds,
  blocked: 0,
  retrying: 0,
});

const policy = scalingPolicy({
  minReplicas: 1,
  maxReplicas: 8,
  targetPendingPerReplica: 1000,
  maxOldestPendingAgeSeconds: 30,
});

describe('recommendReplicas', () => {
  it.each([
    // pending, oldest age, current → recommended
    [0, 0, 3, 1], // empty backlog → min
    [1, 1, 1, 1],
    [2500, 5, 1, 3], // ceil(2.5)
    [2950, 5, 3, 3], // 0.98 of 3 replicas' target: within tolerance, stay
    [3350, 5, 3, 4], // 1.12: outside tolerance → ceil
    [2650, 5, 3, 3], // 0.88: outside tolerance → ceil(2.65) = 3 anyway
    [1500, 5, 3, 2], // well under: down to ceil
    [100_000, 5, 2, 8], // clamped to max
    [10, 45, 1, 2], // small but old backlog → one more
    [10, 45, 8, 8], // ... never above max
    [0, 45, 2, 1], // no pending: age is irrelevant
  ])('pending %d, oldest %ds, current %d → %d', (pending, age, current, expected) => {
    expect(recommendReplicas(claimable(pending, age), current, policy)).toBe(expected);
  });

  it('keeps minReplicas 0 possible and respects a higher floor', () => {
    const zero = scalingPolicy({ minReplicas: 0, maxReplicas: 4, targetPendingPerReplica: 10 });
    expect(recommendReplicas(claimable(0, 0), 2, zero)).toBe(0);
    expect(recommendReplicas(claimable(1, 0), 0, zero)).toBe(1);
    const floor = scalingPolicy({ minReplicas: 3, maxReplicas: 4 });
    expect(recommendReplicas(claimable(0, 0), 4, floor)).toBe(3);
  });
});

describe('relay scaling with a blocked backlog (DESIGN §9, one record refused by Kafka)', () => {
  const deadEvent = '0193a000-0000-7000-8000-00000000dead';
  const product = '0193a000-0000-7000-8000-0000000000aa';
  const blocked = (rows: number, products = 1): Backlog => ({
    ...claimable(150, 5),
    blocked: rows,
    retrying: 40,
    firstBlocked: { productId: product, deadEventId: deadEvent, products },
  });

  it('recommends what the claimable rows need, however many rows wait behind a DEAD row or in backoff', () => {
    const p = scalingPolicy({ minReplicas: 1, maxReplicas: 8, targetPendingPerReplica: 100 });
    expect(recommendReplicas(blocked(100_000), 2, p)).toBe(2);
    expect(recommendReplicas({ ...claimable(0, 0), blocked: 5000, retrying: 5000 }, 1, p)).toBe(1);
  });

  it('names the DEAD event and its product, and how many products wait', () => {
    expect(blockedBacklogMessage(blocked(50))).toBe(
      `50 row(s) held behind DEAD event ${deadEvent} of product ${product}; not counted for scaling: ` +
        `more relays cannot move them (npx shopstream outbox requeue|skip ${deadEvent})`,
    );
    expect(blockedBacklogMessage(blocked(70, 3))).toMatch(
      new RegExp(
        `^70 row\\(s\\) of 3 products held behind DEAD events, the oldest DEAD event ${deadEvent} of product ${product};`,
      ),
    );
  });

  it('says nothing when no row is blocked: backoff alone heals with time', () => {
    expect(blockedBacklogMessage({ ...claimable(10, 1), retrying: 500 })).toBeUndefined();
  });
});

describe('clampToShards', () => {
  const p = scalingPolicy({ minReplicas: 2, maxReplicas: 8 });

  it('lowers maxReplicas to the shard count: a relay beyond it would own no shard', () => {
    expect(clampToShards(p, 4)).toMatchObject({ minReplicas: 2, maxReplicas: 4 });
    expect(recommendReplicas(claimable(100_000, 0), 1, clampToShards(p, 4))).toBe(4);
  });

  it('lowers minReplicas with it when the shard count is below both', () => {
    expect(clampToShards(p, 1)).toMatchObject({ minReplicas: 1, maxReplicas: 1 });
  });

  it('keeps the spec when the shard count is higher or not known yet', () => {
    expect(clampToShards(p, 64)).toEqual(p);
    expect(clampToShards(p, 8)).toEqual(p);
    expect(clampToShards(p, undefined)).toEqual(p);
  });
});

describe('ScaleDownStabilizer', () => {
  const at = (s: number) => new Date(1_000_000 + s * 1000);

  it('scales up at once but down only to the highest recommendation of the window', () => {
    const s = new ScaleDownStabilizer(2, at(0));
    expect(s.stabilize(5, 2, 60, at(10))).toBe(5); // up: immediate
    expect(s.stabilize(1, 5, 60, at(20))).toBe(5); // 5 was recommended 10 s ago
    expect(s.stabilize(1, 5, 60, at(69))).toBe(5); // still inside the window
    expect(s.stabilize(3, 5, 60, at(71))).toBe(3); // 5 left the window; highest now 3
    expect(s.stabilize(1, 3, 60, at(125))).toBe(3); // 3 at t=71 is inside
    expect(s.stabilize(1, 3, 60, at(132 + 60))).toBe(1);
  });

  it('does not scale down right after it starts (a new leader counts the running replicas)', () => {
    const s = new ScaleDownStabilizer(4, at(0));
    expect(s.stabilize(1, 4, 300, at(15))).toBe(4);
    expect(s.stabilize(1, 4, 300, at(301))).toBe(1);
  });

  it('with a zero window follows the recommendation', () => {
    const s = new ScaleDownStabilizer(4, at(0));
    expect(s.stabilize(2, 4, 0, at(1))).toBe(2);
  });
});
