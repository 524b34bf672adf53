import type { DlqFilter, DlqPosition, DlqPurgeTarget } from '@shopstream/shared';
import { usageError } from '../output.js';

export interface FilterOptions {
  code?: string;
  partition?: string;
  since?: string;
  originalTopic?: string;
}

/** What `dlq replay` was asked to replay: everything, named records, or the records a filter matches. */
export type ReplaySelection = { all: true } | { positions: DlqPosition[] } | { filter: DlqFilter };

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** @throws a usage error (exit 2) unless `value` is `<partition>:<offset>` with non-negative integers. */
export function parsePosition(value: string): DlqPosition {
  const match = /^(\d{1,9}):(\d{1,18})$/.exec(value.trim());
  if (!match) throw usageError(`a DLQ record is <partition>:<offset>, like 0:42, not "${value}"`);
  return { partition: Number(match[1]), offset: BigInt(match[2]!).toString() };
}

/**
 * `--since`: a duration back from `now` (`90s`, `10m`, `2h`, `7d`) or an ISO 8601 / RFC 3339 time.
 * @throws a usage error (exit 2) for anything else.
 */
export function parseSince(value: string, now: number): Date {
  const duration = /^(\d{1,9})(s|m|h|d)$/.exec(value.trim());
  if (duration) return new Date(now - Number(duration[1]) * UNIT_MS[duration[2] as keyof typeof UNIT_MS]);
  const time = Date.parse(value);
  if (/^\d{4}-\d{2}-\d{2}/.test(value.trim()) && Number.isFinite(time)) return new Date(time);
  throw usageError(
    `--since takes a duration (30s, 10m, 2h, 7d) or an ISO 8601 time (2026-12-01T10:00:00Z), not "${value}"`,
  );
}

function parseCount(flag: string, value: string, min: number): number {
  const n = /^\d{1,9}$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < min) {
    throw usageError(
      `${flag} must be ${min === 0 ? 'a non-negative' : 'a positive'} integer, not "${value}"`,
    );
  }
  return n;
}

/** @throws a usage error for a bad partition, time or empty code/topic. */
export function parseFilter(options: FilterOptions, now: number): DlqFilter {
  if (options.code !== undefined && !options.code.trim()) throw usageError('--code needs an error code');
  if (options.originalTopic !== undefined && !options.originalTopic.trim()) {
    throw usageError('--original-topic needs a topic name');
  }
  return {
    ...(options.partition !== undefined
      ? { partition: parseCount('--partition', options.partition, 0) }
      : {}),
    ...(options.code !== undefined ? { code: options.code.trim() } : {}),
    ...(options.originalTopic !== undefined ? { originalTopic: options.originalTopic.trim() } : {}),
    ...(options.since !== undefined ? { since: parseSince(options.since, now) } : {}),
  };
}

/** `--limit`, 100 when not given. @throws a usage error unless a positive integer. */
export const parseLimit = (value: string | undefined): number =>
  value === undefined ? 100 : parseCount('--limit', value, 1);

const hasFilter = (options: FilterOptions): boolean =>
  [options.code, options.partition, options.since, options.originalTopic].some((v) => v !== undefined);

/**
 * `dlq replay`'s selection: exactly one of --all, positions or filters.
 * @throws a usage error for none, a mix, or a malformed position or filter.
 */
export function parseReplaySelection(
  positions: string[],
  options: FilterOptions & { all?: boolean },
  now: number,
): ReplaySelection {
  const kinds = [Boolean(options.all), positions.length > 0, hasFilter(options)].filter(Boolean).length;
  if (kinds === 0) {
    throw usageError(
      'replay needs --all, one or more <partition>:<offset>, or filters (--code, --partition, --since, --original-topic)',
    );
  }
  if (kinds > 1) {
    throw usageError('replay takes one of --all, <partition>:<offset>… or filters, not a mix');
  }
  if (options.all) return { all: true };
  if (positions.length) return { positions: positions.map(parsePosition) };
  return { filter: parseFilter(options, now) };
}

/** `dlq purge`'s target: `--to-offset P:O…` or `--all-before <ISO time>`, exactly one. */
export function parsePurgeTarget(options: { toOffset?: string[]; allBefore?: string }): DlqPurgeTarget {
  const toOffset = options.toOffset ?? [];
  if (toOffset.length > 0 && options.allBefore !== undefined) {
    throw usageError('purge takes --to-offset or --all-before, not both');
  }
  if (options.allBefore !== undefined) {
    const time = Date.parse(options.allBefore);
    if (!/^\d{4}-\d{2}-\d{2}/.test(options.allBefore.trim()) || !Number.isFinite(time)) {
      throw usageError(
        `--all-before takes an ISO 8601 time (2026-12-01T10:00:00Z), not "${options.allBefore}"`,
      );
    }
    return { before: new Date(time) };
  }
  if (toOffset.length === 0) {
    throw usageError('purge needs --to-offset <partition>:<offset> or --all-before <ISO time>');
  }
  const positions = toOffset.map(parsePosition);
  const partitions = positions.map((p) => p.partition);
  if (new Set(partitions).size !== partitions.length) {
    throw usageError('--to-offset names a partition more than once');
  }
  return { positions };
}
