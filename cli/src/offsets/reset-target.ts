import { parseIsoDuration } from '@shopstream/operator';
import type { PartitionPlan, ResetTarget } from '@shopstream/operator';
import { CliError, usageError } from '../output.js';

export interface TargetOptions {
  toEarliest?: boolean;
  toLatest?: boolean;
  toDatetime?: string;
  byDuration?: string;
  shiftBy?: string;
  toOffset?: string;
}

export const TARGET_FLAGS = [
  '--to-earliest',
  '--to-latest',
  '--to-datetime',
  '--by-duration',
  '--shift-by',
  '--to-offset',
] as const;

const rfc3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * The one reset target the options name, in the operator's terms (so planOffsetReset resolves it).
 * @throws a usage error (exit 2) for none, several, or a value that cannot be used.
 */
export function parseResetTarget(o: TargetOptions): ResetTarget {
  const given = [
    o.toEarliest && '--to-earliest',
    o.toLatest && '--to-latest',
    o.toDatetime !== undefined && '--to-datetime',
    o.byDuration !== undefined && '--by-duration',
    o.shiftBy !== undefined && '--shift-by',
    o.toOffset !== undefined && '--to-offset',
  ].filter(Boolean);
  if (given.length !== 1) {
    throw usageError(
      given.length === 0
        ? `name one target: ${TARGET_FLAGS.join(', ')}`
        : `name exactly one target, not ${given.join(' and ')}`,
    );
  }
  if (o.toEarliest) return { earliest: true };
  if (o.toLatest) return { latest: true };
  if (o.toDatetime !== undefined) {
    if (!rfc3339.test(o.toDatetime) || Number.isNaN(Date.parse(o.toDatetime))) {
      throw usageError(
        `--to-datetime needs an RFC 3339 date-time with a zone, e.g. 2026-01-31T12:00:00Z, not ${o.toDatetime}`,
      );
    }
    return { datetime: o.toDatetime };
  }
  if (o.byDuration !== undefined) {
    try {
      parseIsoDuration(o.byDuration);
    } catch {
      throw usageError(
        `--by-duration needs an ISO 8601 duration of days/hours/minutes/seconds, e.g. PT1H or P1DT30M, not ${o.byDuration}`,
      );
    }
    return { duration: o.byDuration };
  }
  if (o.shiftBy !== undefined) {
    if (!/^[+-]?\d+$/.test(o.shiftBy) || !Number.isSafeInteger(Number(o.shiftBy))) {
      throw usageError(`--shift-by needs an integer (negative moves back), not ${o.shiftBy}`);
    }
    return { shiftBy: Number(o.shiftBy) };
  }
  if (!/^\d+$/.test(o.toOffset!) || !Number.isSafeInteger(Number(o.toOffset))) {
    throw usageError(`--to-offset needs a non-negative integer, not ${o.toOffset}`);
  }
  return { offset: Number(o.toOffset) };
}

/**
 * Like kafka-consumer-groups, offsets are only moved for a group nobody consumes in: a member
 * would overwrite them with its next commit. @throws CliError naming the members.
 */
export function refuseActiveGroup(
  group: string,
  description: { state: string; members: { clientId: string; clientHost: string }[] },
): void {
  if (description.members.length === 0) return;
  const who = description.members.map((m) => `${m.clientId} (${m.clientHost})`).join(', ');
  throw new CliError(
    `consumer group ${group} is ${description.state} with ${description.members.length} active member(s): ${who}. ` +
      'Offsets can only be reset while the group has no members: stop its consumers (scale the consumer to 0) and run this again.',
  );
}

export function formatPlan(group: string, plan: PartitionPlan[], executed: boolean): string {
  const header = ['TOPIC', 'PARTITION', 'OLD', 'NEW'];
  const cells = plan.map((p) => [p.topic, String(p.partition), p.oldOffset ?? '-', p.newOffset]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]): string =>
    c
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [
    line(header),
    ...cells.map(line),
    '',
    executed
      ? `offsets of group ${group} reset (${plan.length} partition(s))`
      : `dry run: nothing changed; add --execute to move group ${group} to these offsets`,
  ].join('\n');
}
