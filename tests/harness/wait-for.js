import { setTimeout as sleep } from 'node:timers/promises';
/**
 * Polls `probe` until it returns a value other than undefined/false, and returns that value.
 * A probe that throws counts as "not yet"; on timeout the last error is attached as the cause,
 * so a failing test says what it waited for and why it never came.
 */
export async function waitFor(probe, { description, timeoutMs = 30_000, intervalMs = 200 }) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}`, { cause: lastError });
    }
    await sleep(intervalMs);
  }
}
//# sourceMappingURL=wait-for.js.map
