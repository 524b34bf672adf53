import type { PartitionLag } from '@shopstream/shared';

/** What the lag table shows: Kafka's own numbers, or why there are none. */
export type LagReport =
  | { state: 'unconfigured' }
  | { state: 'ok'; groupId: string; topic: string; partitions: PartitionLag[] }
  | { state: 'error'; groupId: string; topic: string; message: string };

export interface LagSource {
  report(): Promise<LagReport>;
}

/** Without KAFKA_BROKERS the page still works; the lag table says Kafka is not configured. */
export const unconfiguredLag: LagSource = { report: () => Promise.resolve({ state: 'unconfigured' }) };
