import { Partitioners } from 'kafkajs';
import type { Kafka, Producer } from 'kafkajs';

/**
 * The producer tests write their fixture records with. Idempotent, so a batch kafkajs retries after
 * a lost response (the broker wrote it, the ack never arrived) is written once: a plain producer
 * wrote such a batch twice in CI and a test counting offsets saw 15 where it had produced 10.
 * Keyed records go to the partition Java clients would choose.
 */
export function fixtureProducer(kafka: Kafka): Producer {
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
}
