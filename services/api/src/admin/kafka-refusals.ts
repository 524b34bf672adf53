import { RefusalPauses, kafkaSecurityFailure } from '@shopstream/shared';
import type { KafkaSecurityConfig, RefusalPause, RefusalPausesOptions } from '@shopstream/shared';

/**
 * Kafka refused who the API is (its login, its client certificate, or the broker's certificate is
 * not one the API trusts): the message is the shared one-sentence explanation, never kafkajs's text.
 */
export class KafkaRefusedError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KafkaRefusedError';
  }
}

/**
 * What the admin page's Kafka sources know of Kafka refusing the API's identity (as opposed to
 * being away): the shared refusal pause (RefusalPauses, as the operator's admin pool), so that
 * refreshes of the page (by hand or by a monitor) do not each cost the broker a failed login, and
 * the page shows the sentence instead. Share one instance between the lag table and the DLQ view:
 * they log in with the same settings.
 */
export class KafkaRefusals {
  private readonly pauses: RefusalPauses;

  constructor(
    private readonly config: KafkaSecurityConfig,
    private readonly brokers: string[],
    options: RefusalPausesOptions = {},
  ) {
    this.pauses = new RefusalPauses(options);
  }

  /** Call before connecting. @throws KafkaRefusedError while a refusal's pause lasts. */
  assertNotPaused(): void {
    const pause = this.pauses.active(API_IDENTITY);
    if (pause) throw errorOf(pause);
  }

  /**
   * The error to report for a failed request: a KafkaRefusedError when Kafka refused the API's
   * identity (a new refusal starts the next, longer pause; `err` may be the one assertNotPaused
   * threw), else undefined and the caller reports `err` as before.
   */
  refused(err: unknown): KafkaRefusedError | undefined {
    if (err instanceof KafkaRefusedError) return err;
    const failure = kafkaSecurityFailure(err, this.config, this.brokers);
    if (!failure) return undefined;
    return errorOf(this.pauses.refused(API_IDENTITY, failure.message), err);
  }

  /** Kafka took the API's identity: a later refusal pauses for the base time again. */
  succeeded(): void {
    this.pauses.succeeded(API_IDENTITY);
  }
}

/** The API logs in with one configuration: one key. */
const API_IDENTITY = 'api';

const errorOf = (pause: RefusalPause, cause?: unknown): KafkaRefusedError =>
  new KafkaRefusedError(
    `${pause.message} (not tried again before ${new Date(pause.untilMs).toISOString()})`,
    {
      cause,
    },
  );
