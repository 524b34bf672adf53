import type { DlqFilter, DlqListResult, DlqPosition, DlqRecord, DlqReplayReport } from '@shopstream/shared';

/** What the DLQ view lists: the records, or why there are none to show. */
export type DlqListing =
  | { state: 'unconfigured' }
  | { state: 'ok'; list: DlqListResult }
  | { state: 'error'; topic: string; message: string };

/** Kafka did not answer (or not in time): the page says so with 503, and nothing was changed. */
export class DlqUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DlqUnavailableError';
  }
}

/**
 * The admin page's port to the dead-letter topic. `list` reports failures in its result (the page
 * still renders); `show` and `replay` throw DlqAdminError (bad input, not found) or
 * DlqUnavailableError.
 */
export interface DlqSource {
  readonly topic: string | undefined;
  list(filter: DlqFilter, limit: number): Promise<DlqListing>;
  show(position: DlqPosition): Promise<DlqRecord | undefined>;
  /** Replays the one record at `position` to its original topic; the report says where it went. */
  replay(position: DlqPosition): Promise<{ record: DlqRecord; report: DlqReplayReport }>;
}

const notConfigured = (): Promise<never> =>
  Promise.reject(new DlqUnavailableError('Kafka is not configured for the API (set KAFKA_BROKERS)'));

/** Without KAFKA_BROKERS the view still renders and says Kafka is not configured. */
export const unconfiguredDlq: DlqSource = {
  topic: undefined,
  list: () => Promise.resolve({ state: 'unconfigured' }),
  show: notConfigured,
  replay: notConfigured,
};
