import { backoffMs } from './backoff.js';

describe('backoffMs', () => {
  it('doubles per attempt between half and the full delay, and caps', () => {
    expect([1, 2, 3, 4].map((a) => backoffMs(a, 500, 60_000, () => 1))).toEqual([500, 1000, 2000, 4000]);
    expect([1, 2, 3, 4].map((a) => backoffMs(a, 500, 60_000, () => 0))).toEqual([250, 500, 1000, 2000]);
    expect(backoffMs(30, 500, 60_000, () => 1)).toBe(60_000);
  });

  it('survives a Kafka outage of 20 s within the default 10 attempts', () => {
    // Sum of the smallest possible delays for attempts 1..9 (the 10th failure makes a row DEAD).
    const minimumTotal = Array.from({ length: 9 }, (_, i) => backoffMs(i + 1, 500, 60_000, () => 0)).reduce(
      (a, b) => a + b,
    );
    expect(minimumTotal).toBeGreaterThan(20_000);
  });
});
