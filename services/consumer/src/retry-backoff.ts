/**
 * The delay before retry number `attempt` (1 = after the first failure): exponential from `baseMs`,
 * capped at `maxMs`, with "equal jitter" — half of the step fixed, half random — so consumers that
 * failed together do not retry in lockstep, and no delay collapses to nothing.
 * @param random a source in [0, 1); Math.random in production, fixed in tests.
 */
export function backoffDelay(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const step = Math.min(maxMs, baseMs * 2 ** Math.min(Math.max(attempt, 1) - 1, 30));
  return Math.round(step / 2 + random() * (step / 2));
}
