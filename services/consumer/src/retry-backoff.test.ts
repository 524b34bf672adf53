import { backoffDelay } from './retry-backoff.js';

describe('backoffDelay', () => {
  it('doubles from the base and stays within [step/2, step]', () => {
    const steps = [1, 2, 3, 4, 5].map((attempt) => [
      backoffDelay(attempt, 200, 10_000, () => 0),
      backoffDelay(attempt, 200, 10_000, () => 0.999_999),
    ]);
    expect(steps).toEqual([
      [100, 200],
      [200, 400],
      [400, 800],
      [800, 1600],
      [1600, 3200],
    ]);
  });

  it('is capped at the maximum, however many attempts', () => {
    for (const attempt of [7, 30, 1000, Number.MAX_SAFE_INTEGER]) {
      const delay = backoffDelay(attempt, 200, 10_000, () => 0.999_999);
      expect(delay).toBeLessThanOrEqual(10_000);
      expect(delay).toBeGreaterThanOrEqual(5_000);
    }
  });

  it('spreads retries of consumers that failed together (jitter)', () => {
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(6, 200, 10_000)));
    expect(delays.size).toBeGreaterThan(10);
  });
});
