import type { ProductPipelineStatus } from './pipeline-types.js';

/** Volatile numbers that differ only within their magnitude are written at most this often. */
export const VOLATILE_STATUS_MAX_AGE_MS = 60_000;

/**
 * 0 for nothing, then one step per power of two: 1, 2–3, 4–7, … A backlog going from 0 to 500 or
 * back to 0 is news; 480 → 470 is not.
 */
export const magnitude = (n: number | undefined | null): number | undefined =>
  n === undefined || n === null ? undefined : n <= 0 ? 0 : Math.floor(Math.log2(n)) + 1;

/**
 * The status with its volatile parts reduced to what is worth a write: backlog numbers and lag to
 * their magnitude, numbers inside condition messages (counts, ages) to a placeholder. Absent and
 * null are the same (a merge patch writes null to remove a field).
 */
function essence(status: ProductPipelineStatus | undefined): string {
  const s = status ?? {};
  const relay = s.relay
    ? {
        ...s.relay,
        pendingEvents: magnitude(s.relay.pendingEvents),
        oldestPendingAgeSeconds: magnitude(s.relay.oldestPendingAgeSeconds),
        blockedEvents: magnitude(s.relay.blockedEvents),
        retryingEvents: magnitude(s.relay.retryingEvents),
      }
    : undefined;
  return canonical({
    observedGeneration: s.observedGeneration,
    conditions: (s.conditions ?? []).map((c) => ({ ...c, message: c.message.replace(/\d+(\.\d+)?/g, '#') })),
    topics: s.topics,
    relay,
    consumers: s.consumers?.map((c) => ({ ...c, lag: magnitude(c.lag) })),
  });
}

/** JSON with sorted keys and without undefined or null members, so equal statuses compare equal. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null) return undefined;
    if (v && typeof v === 'object' && !Array.isArray(v))
      return Object.fromEntries(
        Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
      );
    return v;
  });
}

/**
 * Whether `next` is worth a status write over `previous`: something other than a volatile number
 * changed, a volatile number changed its magnitude, or it changed at all and the stored one is
 * older than VOLATILE_STATUS_MAX_AGE_MS (`sinceLastWriteMs`: Infinity when this replica has not
 * written it). The numbers themselves are metrics at every poll.
 */
export function statusWorthWriting(
  previous: ProductPipelineStatus | undefined,
  next: ProductPipelineStatus,
  sinceLastWriteMs: number,
): boolean {
  if (essence(previous) !== essence(next)) return true;
  if (canonical(previous ?? {}) === canonical(next)) return false;
  return sinceLastWriteMs >= VOLATILE_STATUS_MAX_AGE_MS;
}
