import type { Producer } from 'kafkajs';

export interface DeadLetter {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
  code: string;
  message: string;
}

/**
 * Sends a refused event to the dead-letter topic, unchanged, with headers naming where it came from
 * and why it was refused. Resolves once Kafka acknowledged it; only then may its offset be committed.
 */
export async function sendToDeadLetter(
  producer: Producer,
  dlqTopic: string,
  letter: DeadLetter,
): Promise<void> {
  await producer.send({
    topic: dlqTopic,
    acks: -1,
    messages: [
      {
        key: letter.key,
        value: letter.value,
        headers: {
          ...letter.headers,
          dlq_original_topic: letter.topic,
          dlq_original_partition: String(letter.partition),
          dlq_original_offset: letter.offset,
          dlq_error_code: letter.code,
          dlq_error_message: letter.message.slice(0, 1000),
          dlq_failed_at: new Date().toISOString(),
        },
      },
    ],
  });
}
