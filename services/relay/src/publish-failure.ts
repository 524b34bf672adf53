/**
 * Why a send failed, and whose fault it was (DESIGN §4). Only a record's own fault counts an attempt
 * and can end in DEAD; everything else is the environment's (broker, network, credentials, a topic
 * the operator has not created yet) and changes no row: the relay's circuit opens and it waits.
 * An error we do not recognise is the environment's: guessing "the record" would turn an outage
 * of an unknown kind into DEAD rows, which only a person can undo.
 */
export type RecordFault = 'message_too_large' | 'invalid_record';
export type EnvironmentFault =
  | 'broker_unavailable'
  | 'not_leader'
  | 'timeout'
  | 'authentication'
  | 'unknown_topic'
  | 'lease_lapsed'
  | 'other';
export type PublishFailureReason = RecordFault | EnvironmentFault;

const RECORD_FAULTS: ReadonlySet<string> = new Set<RecordFault>(['message_too_large', 'invalid_record']);

export const isRecordFault = (reason: PublishFailureReason): reason is RecordFault =>
  RECORD_FAULTS.has(reason);

export class PublishError extends Error {
  constructor(
    message: string,
    readonly reason: PublishFailureReason,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PublishError';
  }

  /** True when the records themselves are at fault: sending them one by one finds the culprit. */
  get recordSpecific(): boolean {
    return isRecordFault(this.reason);
  }
}

/** Kafka protocol error types (kafkajs `error.type`) and what they say about the fault. */
const byKafkaType: Record<string, PublishFailureReason> = {
  MESSAGE_TOO_LARGE: 'message_too_large',
  RECORD_LIST_TOO_LARGE: 'message_too_large',
  INVALID_RECORD: 'invalid_record',
  CORRUPT_MESSAGE: 'invalid_record',
  INVALID_TIMESTAMP: 'invalid_record',
  LEADER_NOT_AVAILABLE: 'not_leader',
  NOT_LEADER_FOR_PARTITION: 'not_leader',
  NOT_LEADER_OR_FOLLOWER: 'not_leader',
  FENCED_LEADER_EPOCH: 'not_leader',
  NOT_ENOUGH_REPLICAS: 'broker_unavailable',
  NOT_ENOUGH_REPLICAS_AFTER_APPEND: 'broker_unavailable',
  REQUEST_TIMED_OUT: 'timeout',
  NETWORK_EXCEPTION: 'broker_unavailable',
  UNKNOWN_TOPIC_OR_PARTITION: 'unknown_topic',
  SASL_AUTHENTICATION_FAILED: 'authentication',
  TOPIC_AUTHORIZATION_FAILED: 'authentication',
  CLUSTER_AUTHORIZATION_FAILED: 'authentication',
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: 'authentication',
  ILLEGAL_SASL_STATE: 'authentication',
  UNSUPPORTED_SASL_MECHANISM: 'authentication',
};

const byKafkaJsName: Record<string, PublishFailureReason> = {
  KafkaJSRequestTimeoutError: 'timeout',
  KafkaJSConnectionError: 'broker_unavailable',
  KafkaJSConnectionClosedError: 'broker_unavailable',
  KafkaJSBrokerNotFound: 'broker_unavailable',
  KafkaJSNumberOfRetriesExceeded: 'broker_unavailable',
  KafkaJSNonRetriableError: 'other',
  KafkaJSSASLAuthenticationError: 'authentication',
  KafkaJSMetadataNotLoaded: 'broker_unavailable',
  KafkaJSTopicMetadataNotLoaded: 'unknown_topic',
  KafkaJSLockTimeout: 'timeout',
};

/**
 * Classifies a kafkajs failure. kafkajs wraps the broker's error (retries exhausted → originalError
 * or cause): the innermost error that names a Kafka error type decides; otherwise the innermost
 * kafkajs error name that we know; otherwise `other` (the environment's).
 */
export function classifyPublishFailure(err: unknown): PublishFailureReason {
  const next = (e: unknown): unknown =>
    (e as { originalError?: unknown }).originalError ?? (e as { cause?: unknown }).cause;
  let byName: PublishFailureReason | undefined;
  for (let e: unknown = err, depth = 0; e && depth < 10; e = next(e), depth++) {
    const type = (e as { type?: unknown }).type;
    if (typeof type === 'string' && byKafkaType[type]) return byKafkaType[type];
    const name = (e as { name?: unknown }).name;
    if (typeof name === 'string' && byKafkaJsName[name] && byKafkaJsName[name] !== 'other') {
      byName = byKafkaJsName[name];
    }
    // "The producer is disconnected" is a plain KafkaJSError: it is the broker's absence.
    const message = (e as { message?: unknown }).message;
    if (typeof message === 'string' && /disconnected|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT/.test(message)) {
      byName ??= 'broker_unavailable';
    }
  }
  return byName ?? 'other';
}
