import { explainStart } from '@shopstream/shared';
import type { PartitionLag } from '@shopstream/shared';

export type StartFrom = 'earliest' | 'latest';

export interface PartitionLagReport extends PartitionLag {
  /**
   * Age of the oldest message the group has not consumed yet (now − its timestamp); 0 when caught
   * up, null when it could not be read in time.
   */
  lagSeconds: number | null;
  /** Why a partition without a commit will (or will not) deliver: only for those partitions. */
  explanation: string | null;
}

/**
 * The offset of the oldest message the group has not consumed: where it resumes (its commit, or
 * the start position when it has none), never before the log start, since retention may have
 * deleted what the commit points at. Null when nothing is waiting.
 */
export function oldestUnconsumedOffset(p: PartitionLag, startFrom: StartFrom): string | null {
  if (p.lag <= 0) return null;
  const low = BigInt(p.logStartOffset);
  const resume = BigInt(p.committedOffset ?? (startFrom === 'earliest' ? p.logStartOffset : p.logEndOffset));
  return (resume < low ? low : resume).toString();
}

/** Lag in seconds of one partition from the oldest unconsumed message's timestamp (ms). */
export function lagSeconds(
  p: PartitionLag,
  oldestTimestampMs: number | undefined,
  nowMs: number,
): number | null {
  if (p.lag <= 0) return 0;
  if (oldestTimestampMs === undefined || !Number.isFinite(oldestTimestampMs)) return null;
  return Math.max(0, Math.round((nowMs - oldestTimestampMs) / 100) / 10);
}

export function buildLagReport(
  partitions: PartitionLag[],
  timestamps: Map<string, number>,
  startFrom: StartFrom,
  nowMs: number,
): PartitionLagReport[] {
  return partitions.map((p) => ({
    ...p,
    lagSeconds: lagSeconds(p, timestamps.get(partitionKey(p.topic, p.partition)), nowMs),
    explanation: p.committedOffset === null ? explainStart(p, startFrom) : null,
  }));
}

export const partitionKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

/** Columns like kafka-consumer-groups --describe, plus the age, and a sentence per uncommitted partition. */
export function formatLagTable(group: string, rows: PartitionLagReport[]): string {
  if (rows.length === 0) return `group ${group}: no partitions to show`;
  const header = ['TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG', 'LAG-SECONDS'];
  const cells = rows.map((r) => [
    r.topic,
    String(r.partition),
    r.committedOffset ?? '-',
    r.logEndOffset,
    String(r.lag),
    r.lagSeconds === null ? '?' : r.lagSeconds.toFixed(1),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]): string =>
    c
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const total = rows.reduce((n, r) => n + r.lag, 0);
  const notes = rows
    .filter((r) => r.explanation)
    .map((r) => `  ${r.topic}[${r.partition}]: ${r.explanation}`);
  return [
    `group ${group}: ${total} message(s) behind`,
    line(header),
    ...cells.map(line),
    ...(notes.length ? ['', ...notes] : []),
  ].join('\n');
}
