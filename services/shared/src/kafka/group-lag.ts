import type { Admin } from 'kafkajs';

export interface PartitionLag {
  topic: string;
  partition: number;
  /** The group's committed offset, or null when it has none. */
  committedOffset: string | null;
  logStartOffset: string;
  logEndOffset: string;
  /** Messages between where the group resumes and the log end. */
  lag: number;
}

/**
 * Where a group stands on a topic, from Kafka itself (the same numbers kafka-consumer-groups
 * --describe shows): committed offset, log start and end, lag per partition. A group with no
 * commit resumes at the log start (earliest) or end (latest), and its lag is counted from there.
 */
export async function describeLag(
  admin: Admin,
  groupId: string,
  topic: string,
  startFrom: 'earliest' | 'latest' = 'earliest',
): Promise<PartitionLag[]> {
  const [ends, committed] = await Promise.all([
    admin.fetchTopicOffsets(topic),
    admin.fetchOffsets({ groupId, topics: [topic] }),
  ]);
  const byPartition = new Map(
    (committed.find((t) => t.topic === topic)?.partitions ?? []).map((p) => [p.partition, p.offset]),
  );
  return ends
    .map((e) => {
      const raw = byPartition.get(e.partition);
      const committedOffset = raw !== undefined && Number(raw) >= 0 ? raw : null;
      const resumeAt = committedOffset ?? (startFrom === 'earliest' ? e.low : e.high);
      return {
        topic,
        partition: e.partition,
        committedOffset,
        logStartOffset: e.low,
        logEndOffset: e.high,
        lag: Math.max(0, Number(BigInt(e.high) - BigInt(resumeAt))),
      };
    })
    .sort((a, b) => a.partition - b.partition);
}

/** A sentence for the start-up log that says why this partition will or will not deliver messages. */
export function explainStart(p: PartitionLag, startFrom: 'earliest' | 'latest'): string {
  if (p.committedOffset === null) {
    return p.lag > 0
      ? `no committed offset: starting from the ${startFrom} offset, ${p.lag} message(s) to consume`
      : `no committed offset: starting from the ${startFrom} offset, which is the log end: only new events will arrive`;
  }
  return p.lag > 0
    ? `resuming from the committed offset ${p.committedOffset}: ${p.lag} message(s) behind`
    : `committed offset ${p.committedOffset} is already at the log end: 0 messages to consume until new events arrive (reset the group's offsets to replay)`;
}
