import { randomUUID } from 'node:crypto';
import type { Admin, Kafka } from 'kafkajs';
import { describeLag } from '@shopstream/shared';
import type { PartitionLag } from '@shopstream/shared';
import { partitionKey } from './lag-report.js';
import type { StartFrom } from './lag-report.js';

/** The topics the group has a committed offset on: what kafka-consumer-groups --describe lists. */
export async function committedTopics(admin: Admin, groupId: string): Promise<string[]> {
  const offsets = await admin.fetchOffsets({ groupId });
  return offsets
    .filter((t) => t.partitions.some((p) => Number(p.offset) >= 0))
    .map((t) => t.topic)
    .sort();
}

export async function topicExists(admin: Admin, topic: string): Promise<boolean> {
  return (await admin.listTopics()).includes(topic);
}

export function groupLag(
  admin: Admin,
  groupId: string,
  topic: string,
  startFrom: StartFrom,
): Promise<PartitionLag[]> {
  return describeLag(admin, groupId, topic, startFrom);
}

/**
 * Timestamps (ms) of the first message at or after each wanted offset. Kafka's admin API can map a
 * time to an offset but not an offset to a time, so this reads the messages themselves: a
 * short-lived consumer in a throwaway group (it never commits, so Kafka forgets the group when it
 * leaves) seeks each partition to its offset and takes the first record's timestamp. Partitions
 * not read within `timeoutMs` are missing from the result.
 */
export async function timestampsAt(
  kafka: Kafka,
  wanted: { topic: string; partition: number; offset: string }[],
  timeoutMs = 10_000,
): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  if (wanted.length === 0) return found;
  const targets = new Map(wanted.map((w) => [partitionKey(w.topic, w.partition), BigInt(w.offset)]));
  const consumer = kafka.consumer({
    groupId: `shopstream-cli-lag-probe-${randomUUID()}`,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: 250,
    maxBytesPerPartition: 256 * 1024,
    retry: { retries: 1 },
  });
  let finish: () => void = () => undefined;
  const allFound = new Promise<void>((resolve) => (finish = resolve));
  let timer: NodeJS.Timeout | undefined;
  try {
    await consumer.connect();
    const topics = [...new Set(wanted.map((w) => w.topic))];
    await consumer.subscribe({ topics, fromBeginning: false });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const key = partitionKey(batch.topic, batch.partition);
        const at = targets.get(key);
        if (at === undefined || found.has(key)) return;
        // Records before the seek took effect (or before a compacted gap) are not the ones wanted.
        const first = batch.messages.find((m) => BigInt(m.offset) >= at);
        if (!first) return;
        found.set(key, Number(first.timestamp));
        consumer.pause([{ topic: batch.topic, partitions: [batch.partition] }]);
        if (found.size === targets.size) finish();
      },
    });
    for (const w of wanted) consumer.seek({ topic: w.topic, partition: w.partition, offset: w.offset });
    await Promise.race([allFound, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
  } finally {
    if (timer) clearTimeout(timer);
    await consumer.disconnect().catch(() => undefined);
  }
  return found;
}
