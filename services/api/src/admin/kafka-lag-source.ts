import type { Admin } from 'kafkajs';
import { describeLag } from '@shopstream/shared';
import type { LagReport, LagSource } from './lag-source.js';

export interface KafkaLagOptions {
  groupId: string;
  topic: string;
  startFrom: 'earliest' | 'latest';
  /** A page must render even when Kafka does not answer: after this the table shows an error. */
  timeoutMs?: number;
}

/**
 * Consumer lag per partition through one lazily connected kafkajs admin client (the numbers
 * `kafka-consumer-groups --describe` prints). A failure is reported, never thrown, and the next
 * request connects afresh.
 */
export class KafkaLagSource implements LagSource {
  private connected: Promise<void> | undefined;

  constructor(
    private readonly admin: Admin,
    private readonly options: KafkaLagOptions,
  ) {}

  async report(): Promise<LagReport> {
    const { groupId, topic, startFrom } = this.options;
    let timer: NodeJS.Timeout | undefined;
    const timeoutMs = this.options.timeoutMs ?? 5_000;
    try {
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
      return { state: 'ok', groupId, topic, partitions };
    } catch (err) {
      this.connected = undefined;
      await this.admin.disconnect().catch(() => undefined);
      return { state: 'error', groupId, topic, message: err instanceof Error ? err.message : String(err) };
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    if (this.connected) await this.admin.disconnect().catch(() => undefined);
    this.connected = undefined;
  }
}
