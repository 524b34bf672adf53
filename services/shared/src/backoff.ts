/**
 * Delay before the next attempt after `attempts` failures (1 = after the first): exponential from
 * `baseMs`, capped at `maxMs`, with "equal jitter" (uniform in [delay/2, delay]) so processes that
 * failed together — relays retrying one broker outage, consumers blocked by one database — do not
 * come back in lockstep, and no delay collapses to nothing.
 * @param random a source in [0, 1); Math.random in production, fixed in tests.
 */
export function backoffMs(
  attempts: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const exponential = Math.min(maxMs, baseMs * 2 ** Math.min(Math.max(attempts, 1) - 1, 30));
  return Math.round(exponential / 2 + random() * (exponential / 2));
}
