import { kafkaSecurityFailure } from '@shopstream/shared';
import type { CliKafkaConfig } from '../kafka-client.js';
import { CliError } from '../output.js';

/** pg's codes for "the server is not there or will not let us in", as opposed to a bad query. */
const pgConnectionCodes = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ETIMEDOUT',
  'ECONNRESET',
  'EAI_AGAIN',
  '3D000', // database does not exist
  '28P01', // password authentication failed
  '28000', // no pg_hba.conf entry / role
  '57P03', // cannot connect now (starting up)
]);

/** Where a DATABASE_URL points, without its password: what a message about it may show. */
export function describeDatabase(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return 'DATABASE_URL';
  }
}

/**
 * Turns a PostgreSQL failure into the one sentence the user needs (unreachable, no schema), so a
 * stopped database prints a message and exits 1 instead of a stack. Anything else is returned as is.
 */
export function databaseError(err: unknown, url: string): unknown {
  const e = err as { code?: string; message?: string; errors?: { code?: string }[] };
  const code = e.code ?? e.errors?.[0]?.code;
  const where = describeDatabase(url);
  if (code && pgConnectionCodes.has(code)) {
    return new CliError(`cannot reach PostgreSQL at ${where}: ${e.message || code}`);
  }
  if (code === '42P01') {
    return new CliError(
      `PostgreSQL at ${where} has no shopstream tables (${e.message}): run \`npm run migrate\``,
    );
  }
  if (
    e.message === 'timeout exceeded when trying to connect' ||
    e.message === 'Connection terminated unexpectedly'
  ) {
    return new CliError(`cannot reach PostgreSQL at ${where}: ${e.message}`);
  }
  return err;
}

/**
 * kafkajs errors are all `KafkaJS…`; a user can act on them (broker down, unknown topic, refused
 * credentials, an untrusted certificate), so no stack. Authentication and TLS-trust refusals are
 * named as such: kafkajs reports an untrusted certificate as a mere connection error.
 */
export function kafkaError(err: unknown, config: CliKafkaConfig): unknown {
  const brokers = config.KAFKA_BROKERS;
  const security = kafkaSecurityFailure(err, config, brokers);
  if (security) return new CliError(security.message);
  const e = err as Error;
  if (!e?.name?.startsWith('KafkaJS')) return err;
  const cause = (e as { cause?: Error }).cause;
  const detail = cause && cause.message !== e.message ? `${e.message} (${cause.message})` : e.message;
  if (/does not host this topic-partition|UNKNOWN_TOPIC/i.test(detail)) {
    return new CliError(`Kafka at ${brokers.join(',')}: ${detail}`);
  }
  if (
    /Connection|connect|ECONNREFUSED|retries|timeout/i.test(detail) ||
    e.name === 'KafkaJSConnectionError'
  ) {
    return new CliError(`cannot reach Kafka at ${brokers.join(',')}: ${detail}`);
  }
  return new CliError(`Kafka at ${brokers.join(',')}: ${detail}`);
}

/** The message to show for a part of a report that could not be read, whatever failed. */
export function failureMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
