import { backoffMs } from './backoff.js';

describe('backoffMs', () => {
  it('doubles per attempt between half and the full delay, and caps', () => {
    expect([1, 2, 3, 4].map((a) => backoffMs(a, 500, 60_000, () => 1))).toEqual([500, 1000, 2000, 4000]);
    expect([1, 2, 3, 4].map((a) => backoffMs(a, 500, 60_000, () => 0))).toEqual([250, 500, 1000, 2000]);
    expect(backoffMs(30, 500, 60_000, () => 1)).toBe(60_000);
  });

  it('is capped at the maximum, however many attempts', () => {
    for (const attempt of [7, 30, 1000, Number.MAX_SAFE_INTEGER]) {
      const delay = backoffMs(attempt, 200, 10_000, () => 0.999_999);
      expect(delay).toBeLessThanOrEqual(10_000);
      expect(delay).toBeGreaterThanOrEqual(5_000);
    }
  });

  it('spreads retries of processes that failed together (jitter)', () => {
    const delays = new Set(Array.from({ length: 50 }, () => backoffMs(6, 200, 10_000)));
    expect(delays.size).toBeGreaterThan(10);
  });

  it("lets the relay's defaults (500 ms base, 60 s cap, 10 attempts) outlast a Kafka outage of 20 s", () => {
    // Sum of the smallest possible delays for attempts 1..9 (the 10th failure makes a row DEAD).
    const minimumTotal = Array.from({ length: 9 }, (_, i) => backoffMs(i + 1, 500, 60_000, () => 0)).reduce(
      (a, b) => a + b,
    );
    expect(minimumTotal).toBeGreaterThan(20_000);
  });
});
