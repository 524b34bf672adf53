/**
 * Why a DEAD row failed, as a small fixed set of classes derived from its `last_error`, so rows that
 * share one cause can be reported and requeued together (`shopstream diagnose`,
 * `shopstream outbox requeue --all --error-class <class>`, the admin page).
 *
 * The relay writes `last_error` as `<reason>: <message>` with the reason of its PublishError
 * (services/relay/src/kafka-publisher.ts). Rows written before that format, or with the catch-all
 * reason `other`, are classified by what Kafka or kafkajs said ("The producer is disconnected").
 */
export const ERROR_CLASSES = [
  'broker_unavailable',
  'timeout',
  'message_too_large',
  'invalid_record',
  'other',
] as const;
export type ErrorClass = (typeof ERROR_CLASSES)[number];

export const isErrorClass = (value: string): value is ErrorClass =>
  (ERROR_CLASSES as readonly string[]).includes(value);

/**
 * First match wins; no match (or no error at all) is `other`. Matched case-insensitively, by
 * JavaScript here and by PostgreSQL's `~*` in errorClassSql, so the patterns stay plain
 * alternations of literal words that both read the same way.
 */
const RULES: readonly (readonly [Exclude<ErrorClass, 'other'>, string])[] = [
  // The relay's own reason prefix.
  ['message_too_large', '^message_too_large:'],
  ['invalid_record', '^invalid_record:'],
  // The relay's other environment reasons (services/relay/src/publish-failure.ts) are Kafka being
  // unusable too: since the relay's circuit breaker they change no row, but older DEAD rows remain.
  ['broker_unavailable', '^(broker_unavailable|not_leader|authentication):'],
  ['timeout', '^timeout:'],
  // No prefix, or the catch-all: the broker's error codes and kafkajs' messages.
  ['message_too_large', 'message_too_large|record_list_too_large|too large'],
  ['invalid_record', 'invalid_record|corrupt_message|invalid record'],
  [
    'broker_unavailable',
    'disconnected|connection error|connection closed|econnrefused|econnreset|etimedout|epipe|enotfound|ehostunreach|' +
      'broker not available|broker_not_available|leader_not_available|not_leader|not leader|' +
      'not connected|network exception|authentication failed|sasl',
  ],
  ['timeout', 'timed out|timed_out|timeout'],
];

const COMPILED = RULES.map(([cls, pattern]) => [cls, new RegExp(pattern, 'i')] as const);

/** The class of one `last_error` text (null: never failed, or nothing recorded → `other`). */
export function errorClassOf(lastError: string | null | undefined): ErrorClass {
  if (!lastError) return 'other';
  return COMPILED.find(([, re]) => re.test(lastError))?.[0] ?? 'other';
}

/**
 * The same classification as a SQL expression over `column` (e.g. `d.last_error`), for filtering
 * and grouping in the database. Agrees with errorClassOf on every input (tested against PostgreSQL).
 */
export const errorClassSql = (column: string): string =>
  `(case ${RULES.map(([cls, pattern]) => `when ${column} ~* '${pattern}' then '${cls}'`).join(' ')} else 'other' end)`;
