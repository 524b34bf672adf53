import type { Admin } from 'kafkajs';
import { describeLag } from '@shopstream/shared';
import type { KafkaRefusals } from './kafka-refusals.js';
import type { LagReport, LagSource } from './lag-source.js';

export interface KafkaLagOptions {
  groupId: string;
  topic: string;
  startFrom: 'earliest' | 'latest';
  /** A page must render even when Kafka does not answer: after this the table shows an error. */
  timeoutMs?: number;
  /** Shared with the DLQ view: after Kafka refused the API's identity, neither connects for a while. */
  refusals: KafkaRefusals;
}

/**
 * Consumer lag per partition through one lazily connected kafkajs admin client (the numbers
 * `kafka-consumer-groups --describe` prints). A failure is reported, never thrown, and the next
 * request connects afresh, unless Kafka refused the API's identity: that is reported in the
 * shared sentence, and no request connects until the refusal's pause is over.
 */
export class KafkaLagSource implements LagSource {
  private connected: Promise<void> | undefined;

  constructor(
    private readonly admin: Admin,
    private readonly options: KafkaLagOptions,
  ) {}

  async report(): Promise<LagReport> {
    const { groupId, topic, startFrom, refusals } = this.options;
    let timer: NodeJS.Timeout | undefined;
    const timeoutMs = this.options.timeoutMs ?? 5_000;
    try {
      refusals.assertNotPaused();
      const partitions = await Promise.race([
        (async () => {
          this.connected ??= this.admin.connect();
          await this.connected;
          return describeLag(this.admin, groupId, topic, startFrom);
        })(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`Kafka did not answer within ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]);
      refusals.succeeded();
      return { state: 'ok', groupId, topic, partitions };
    } catch (err) {
      this.connected = undefined;
      await this.admin.disconnect().catch(() => undefined);
      const failure = refusals.refused(err) ?? err;
      return {
        state: 'error',
        groupId,
        topic,
        message: failure instanceof Error ? failure.message : String(failure),
      };
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    if (this.connected) await this.admin.disconnect().catch(() => undefined);
    this.connected = undefined;
  }
}
