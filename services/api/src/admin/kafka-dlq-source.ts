import type { Kafka } from 'kafkajs';
import { DlqAdmin, DlqAdminError } from '@shopstream/shared';
import type { DlqFilter, DlqPosition, DlqRecord, DlqReplayReport } from '@shopstream/shared';
import { DlqUnavailableError } from './dlq-source.js';
import type { DlqListing, DlqSource } from './dlq-source.js';
import type { KafkaRefusals } from './kafka-refusals.js';

/**
 * The DLQ view through the shared DlqAdmin (the one `shopstream dlq` uses): a fresh admin per
 * request, closed after it, so a broker that went away is never a stale connection here. Reading
 * joins no consumer group. Each call has a deadline, so a page renders even when Kafka does not answer.
 * A refusal of the API's identity is reported in the shared sentence, and `refusals` (shared with
 * the lag table) keeps every call from connecting until its pause is over.
 */
export class KafkaDlqSource implements DlqSource {
  constructor(
    private readonly kafka: Kafka,
    readonly topic: string,
    private readonly refusals: KafkaRefusals,
    private readonly timeoutMs = 10_000,
  ) {}

  /**
   * Runs `work` with its own DlqAdmin. Reads race a deadline; a replay does not, because giving up
   * on a send that may still succeed would report a replayed record as not replayed (kafkajs's own
   * request timeouts bound it).
   */
  private async withAdmin<T>(
    what: string,
    work: (admin: DlqAdmin) => Promise<T>,
    deadline = true,
  ): Promise<T> {
    const admin = new DlqAdmin(this.kafka, this.topic); // connects on first use only
    let timer: NodeJS.Timeout | undefined;
    try {
      this.refusals.assertNotPaused();
      const result = !deadline
        ? await work(admin)
        : await Promise.race([
            work(admin),
            new Promise<never>((_, reject) => {
              timer = setTimeout(
                () =>
                  reject(
                    new DlqUnavailableError(`Kafka did not answer within ${this.timeoutMs} ms (${what})`),
                  ),
                this.timeoutMs,
              );
            }),
          ]);
      this.refusals.succeeded();
      return result;
    } catch (err) {
      if (err instanceof DlqAdminError || err instanceof DlqUnavailableError) throw err;
      const refusal = this.refusals.refused(err);
      if (refusal) throw new DlqUnavailableError(refusal.message, { cause: err });
      const message = err instanceof Error ? err.message : String(err);
      throw new DlqUnavailableError(`Kafka failed while ${what}: ${message}`, { cause: err });
    } finally {
      clearTimeout(timer);
      await admin.close();
    }
  }

  async list(filter: DlqFilter, limit: number): Promise<DlqListing> {
    try {
      return { state: 'ok', list: await this.withAdmin('reading the DLQ', (a) => a.list(filter, limit)) };
    } catch (err) {
      if (err instanceof DlqAdminError && err.reason === 'bad-input') throw err;
      return { state: 'error', topic: this.topic, message: (err as Error).message };
    }
  }

  show(position: DlqPosition): Promise<DlqRecord | undefined> {
    return this.withAdmin('reading a DLQ record', async (a) => (await a.show(position))?.record);
  }

  replay(position: DlqPosition): Promise<{ record: DlqRecord; report: DlqReplayReport }> {
    return this.withAdmin(
      'replaying a DLQ record',
      async (a) => {
        const entries = await a.at([position]);
        return { record: entries[0]!.record, report: await a.replay(entries) };
      },
      false,
    );
  }
}
