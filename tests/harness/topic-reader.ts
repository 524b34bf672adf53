import { Kafka, logLevel } from 'kafkajs';
import { randomGroup } from './names.js';
import { waitFor } from './wait-for.js';

export interface ReadRecord {
  partition: number;
  offset: string;
  key: string;
  headers: Record<string, string>;
  value: string;
  /** The producer's CreateTime (ms since the epoch): when the sending client built the record. */
  timestamp: number;
  /** The idempotent producer that wrote the record's batch (-1 for a non-idempotent producer). */
  producerId: string;
}

/**
 * Reads a whole topic from the earliest offset with a throwaway consumer group until `expected`
 * records arrived (or the deadline passed), in partition order. With `toEnd`, it then goes on to
 * the end of every partition as it is at that moment: what a test that counts duplicates needs,
 * since records beyond `expected` are exactly the ones it is looking for.
 */
export async function readTopic(
  brokers: string,
  topic: string,
  expected: number,
  timeoutMs = 120_000,
  options: { toEnd?: boolean } = {},
): Promise<ReadRecord[]> {
  const kafka = new Kafka({ clientId: 'test-reader', brokers: [brokers], logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: randomGroup('reader'), maxBytesPerPartition: 10 * 1024 * 1024 });
  const records: ReadRecord[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
        records.push({
          partition,
          offset: message.offset,
          key: String(message.key),
          headers,
          value: String(message.value),
          timestamp: Number(message.timestamp),
          producerId: String(
            (message as { batchContext?: { producerId?: unknown } }).batchContext?.producerId ?? '-1',
          ),
        });
      },
    });
    await waitFor(() => records.length >= expected, {
      description: `${expected} records on ${topic}`,
      timeoutMs,
    });
    if (options.toEnd) {
      const admin = kafka.admin();
      await admin.connect();
      const ends = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect());
      const reached = (partition: number, high: string): boolean =>
        BigInt(high) === 0n ||
        records.some((r) => r.partition === partition && BigInt(r.offset) >= BigInt(high) - 1n);
      await waitFor(() => ends.every((e) => e.high === e.low || reached(e.partition, e.high)), {
        description: `the end of every partition of ${topic}`,
        timeoutMs,
      });
    }
  } finally {
    await consumer.disconnect();
  }
  return records;
}
