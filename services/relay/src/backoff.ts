/**
 * Delay before the next attempt after `attempts` failures: exponential from `baseMs`, capped at
 * `maxMs`, with "full jitter" (uniform in [delay/2, delay]) so relays retrying the same broker
 * outage do not come back in lockstep.
 */
export function backoffMs(
  attempts: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const exponential = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(exponential / 2 + random() * (exponential / 2));
}
