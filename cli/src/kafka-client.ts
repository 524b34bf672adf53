import { Kafka, logLevel } from 'kafkajs';
import type { Admin } from 'kafkajs';
import { kafkaSecurityOptions } from '@shopstream/shared';
import type { KafkaSecurityConfig } from '@shopstream/shared';
import type { ConsumerGroupAdmin } from '@shopstream/operator';

/** What a CLI Kafka client needs: the brokers and the services' security keys (TLS, SASL, mTLS). */
export type CliKafkaConfig = KafkaSecurityConfig & { KAFKA_BROKERS: string[] };

/**
 * The CLI's only way to build a Kafka client, so every command connects as the services do
 * (same keys, same builder). It gives up within seconds: a person is waiting at the terminal, and
 * a stopped broker is to be reported, not waited on. A refused login is not retried (kafkajs treats
 * SASL authentication failures as non-retriable) unless kafkajs saw it as a connection error first,
 * which a loaded machine makes possible; a TLS failure is tried twice in under a second.
 */
export function cliKafka(config: CliKafkaConfig): Kafka {
  silenceKafkaJsTimerWarning();
  return new Kafka({
    clientId: 'shopstream-cli',
    brokers: config.KAFKA_BROKERS,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3_000,
    requestTimeout: 10_000,
    retry: { retries: 2, initialRetryTime: 200 },
    ...kafkaSecurityOptions(config),
  });
}

let timerWarningSilenced = false;

/**
 * kafkajs 2.2 (no longer maintained) arms its request queue's throttle check with
 * `setTimeout(fn, -1 - Date.now())` when nothing is throttled; Node 23+ prints a
 * TimeoutNegativeWarning for it (and, as kafkajs meant, waits 1 ms). Over TLS that happens on most
 * commands, and a command's stderr is for its one line: this drops that warning and no other.
 */
function silenceKafkaJsTimerWarning(): void {
  if (timerWarningSilenced) return;
  timerWarningSilenced = true;
  const emitWarning = process.emitWarning.bind(process);
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const type = typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
    if (type === 'TimeoutNegativeWarning') return;
    (emitWarning as (w: string | Error, ...r: unknown[]) => void)(warning, ...rest);
  }) as typeof process.emitWarning;
}

/** The handle ConsumerGroupAdmin takes besides a bootstrap string (whose client would be plaintext). */
type GroupAdminHandle = Exclude<ConstructorParameters<typeof ConsumerGroupAdmin>[0], string>;

/**
 * An admin handle for the operator's ConsumerGroupAdmin on a client of the CLI's own: connected on
 * first use, disconnected on close. A bootstrap string would have it build a client without TLS or SASL.
 */
export function cliGroupAdminHandle(config: CliKafkaConfig): GroupAdminHandle {
  const admin: Admin = cliKafka(config).admin();
  let connected = false;
  return {
    async get() {
      if (!connected) {
        await admin.connect();
        connected = true;
      }
      return admin;
    },
    track: (work) => work(),
    async close() {
      if (connected) await admin.disconnect();
      connected = false;
    },
  };
}
