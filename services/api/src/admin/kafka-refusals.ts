import { kafkaSecurityFailure } from '@shopstream/shared';
import type { KafkaSecurityConfig } from '@shopstream/shared';

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

export interface KafkaRefusalOptions {
  /** The pause after a first refusal; each further one doubles it, up to `maxMs`. */
  baseMs?: number;
  maxMs?: number;
  now?: () => number;
}

interface Refusal {
  sentence: string;
  count: number;
  untilMs: number;
}

/**
 * What the admin page's Kafka sources know of Kafka refusing the API's identity (as opposed to
 * being away): retrying cannot help until the configuration or the broker changes, and each try is
 * one more failed login in the broker's log, repeated by every refresh of the page (by hand or by a
 * monitor). So after a refusal no source connects for a pause (10 s, doubling per refusal up to
 * 5 min, as the operator's admin pool does) and the page shows the sentence instead. Share one
 * instance between the lag table and the DLQ view: they log in with the same settings.
 */
export class KafkaRefusals {
  private refusal: Refusal | undefined;
  private readonly baseMs: number;
  private readonly maxMs: number;
  private readonly now: () => number;

  constructor(
    private readonly config: KafkaSecurityConfig,
    private readonly brokers: string[],
    options: KafkaRefusalOptions = {},
  ) {
    this.baseMs = options.baseMs ?? 10_000;
    this.maxMs = options.maxMs ?? 5 * 60_000;
    this.now = options.now ?? Date.now;
  }

  /** Call before connecting. @throws KafkaRefusedError while a refusal's pause lasts. */
  assertNotPaused(): void {
    const refusal = this.refusal;
    if (refusal && this.now() < refusal.untilMs) throw this.errorOf(refusal);
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
    const now = this.now();
    // Requests that failed on the one refusal together (the overview and the lag table) count once.
    const before = this.refusal;
    if (!before || now >= before.untilMs) {
      const count = (before?.count ?? 0) + 1;
      const pauseMs = Math.min(this.maxMs, this.baseMs * 2 ** Math.min(count - 1, 30));
      this.refusal = { sentence: failure.message, count, untilMs: now + pauseMs };
    }
    return this.errorOf(this.refusal!, err);
  }

  /** Kafka took the API's identity: a later refusal pauses for the base time again. */
  succeeded(): void {
    this.refusal = undefined;
  }

  private errorOf(refusal: Refusal, cause?: unknown): KafkaRefusedError {
    const retry = new Date(refusal.untilMs).toISOString();
    return new KafkaRefusedError(`${refusal.sentence} (not tried again before ${retry})`, { cause });
  }
}
