import type { Admin } from 'kafkajs';
import type { PartitionReset, ResetTarget } from '../controllers/pipeline-types.js';

/** One partition of a reset plan (the shape of status.consumers[].lastReset.partitions). */
export type PartitionPlan = PartitionReset;

const durationPattern = /^(-)?P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

/**
 * An ISO 8601 duration in milliseconds. Weeks, days, hours, minutes and seconds only: years and
 * months have no fixed length (Kafka's tool, on java.time.Duration, refuses them too).
 * @throws RangeError for anything else.
 */
export function parseIsoDuration(text: string): number {
  const m = durationPattern.exec(text);
  if (!m || text === 'P' || text.endsWith('T') || !/\d/.test(text)) {
    throw new RangeError(`not an ISO 8601 duration of weeks/days/hours/minutes/seconds: ${text}`);
  }
  const [, minus, w, d, h, min, s] = m;
  const ms =
    ((Number(w ?? 0) * 7 + Number(d ?? 0)) * 24 * 3600 +
      Number(h ?? 0) * 3600 +
      Number(min ?? 0) * 60 +
      Number(s ?? 0)) *
    1000;
  return minus ? -ms : ms;
}

const clamp = (value: bigint, low: bigint, high: bigint): bigint =>
  value < low ? low : value > high ? high : value;

/**
 * Resolves a reset target to concrete offsets per partition of `topics` — never the -1/-2
 * sentinels, which lag tools read as "no offset". One implementation for the operator and the CLI.
 * @throws RangeError for an unusable target (bad datetime or duration).
 */
export async function planOffsetReset(
  admin: Admin,
  groupId: string,
  topics: string[],
  target: ResetTarget,
  now: Date = new Date(),
): Promise<PartitionPlan[]> {
  const committed = await admin.fetchOffsets({ groupId, topics });
  const ends = new Map<string, Awaited<ReturnType<Admin['fetchTopicOffsets']>>>();
  for (const topic of topics) ends.set(topic, await admin.fetchTopicOffsets(topic));
  if ('offsets' in target) refuseMissingPartitions(target.offsets, ends);
  const plans: PartitionPlan[] = [];
  for (const topic of topics) {
    const current = new Map(
      (committed.find((c) => c.topic === topic)?.partitions ?? []).map((p) => [
        p.partition,
        Number(p.offset) >= 0 ? p.offset : null,
      ]),
    );
    let byTime: Map<number, string> | undefined;
    if ('datetime' in target || 'duration' in target) {
      const at =
        'datetime' in target
          ? Date.parse(target.datetime)
          : now.getTime() - parseIsoDuration(target.duration);
      if (Number.isNaN(at))
        throw new RangeError(`not an RFC 3339 date-time: ${(target as { datetime: string }).datetime}`);
      const found = await admin.fetchTopicOffsetsByTimestamp(topic, at);
      byTime = new Map(found.map((f) => [f.partition, f.offset]));
    }
    for (const e of [...ends.get(topic)!].sort((a, b) => a.partition - b.partition)) {
      const [low, high] = [BigInt(e.low), BigInt(e.high)];
      const old = current.get(e.partition) ?? null;
      let next: bigint;
      if ('offsets' in target) {
        // Per partition, like --from-file: partitions not listed keep their offset.
        const wanted = target.offsets.find(
          (o) => o.partition === e.partition && (o.topic === undefined || o.topic === topic),
        );
        if (!wanted) continue;
        next = clamp(BigInt(wanted.offset), low, high);
      } else if ('earliest' in target) next = low;
      else if ('latest' in target) next = high;
      else if ('offset' in target) next = clamp(BigInt(target.offset), low, high);
      else if ('shiftBy' in target) next = clamp(BigInt(old ?? e.low) + BigInt(target.shiftBy), low, high);
      else {
        // No message at or after the time: the log end (what Kafka's tool does).
        const found = byTime?.get(e.partition);
        next = found !== undefined && BigInt(found) >= 0n ? clamp(BigInt(found), low, high) : high;
      }
      plans.push({ topic, partition: e.partition, oldOffset: old, newOffset: next.toString() });
    }
  }
  return plans;
}

/**
 * Per-partition targets must name partitions that exist: silently skipping a typo would report a
 * reset that moved nothing. One without a topic must exist in at least one of the topics.
 * @throws RangeError naming the first one that does not.
 */
function refuseMissingPartitions(
  offsets: { topic?: string; partition: number }[],
  ends: Map<string, { partition: number }[]>,
): void {
  for (const o of offsets) {
    const topics = o.topic === undefined ? [...ends.keys()] : [o.topic];
    const found = topics.some((t) => ends.get(t)?.some((e) => e.partition === o.partition));
    if (!found)
      throw new RangeError(
        o.topic !== undefined && !ends.has(o.topic)
          ? `topic ${o.topic} is not one of the consumer's topics (${[...ends.keys()].join(', ')})`
          : `no partition ${o.partition} in ${topics.join(', ')}`,
      );
  }
}
