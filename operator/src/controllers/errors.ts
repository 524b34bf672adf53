import { Reason } from './conditions.js';
import type { PartitionReset } from './pipeline-types.js';

/** An error the operator reports on the pipeline: `reason` becomes the Ready=False reason. */
export class ReconcileError extends Error {
  /**
   * Not for the queue's backoff: looked at again after this long. For what only a change outside
   * the pipeline fixes that sends no watch event (a Role granted later).
   */
  readonly recheckAfterMs?: number;

  constructor(
    readonly reason: string,
    message: string,
    /** Terminal errors are not retried: only a spec change can fix them. */
    readonly terminal: boolean,
    options?: { cause?: unknown; recheckAfterMs?: number },
  ) {
    super(message, options);
    this.name = 'ReconcileError';
    this.recheckAfterMs = options?.recheckAfterMs;
  }
}

/** How soon a pipeline refused by RBAC is tried again (one request per concern, not a backoff burst). */
export const FORBIDDEN_RECHECK_MS = 30_000;

export const invalidSpec = (message: string): ReconcileError =>
  new ReconcileError(Reason.InvalidSpec, message, true);
export const kafkaUnavailable = (message: string, cause?: unknown): ReconcileError =>
  new ReconcileError(Reason.KafkaUnavailable, message, false, { cause });
/** Retried (a Secret can appear later: Strimzi's User Operator writes a KafkaUser's after the fact). */
export const kafkaCredentialsMissing = (message: string): ReconcileError =>
  new ReconcileError(Reason.KafkaCredentialsMissing, message, false);
/** Retried: a rotated Secret fixes it without a spec change; the admin pool spaces the logins out. */
export const kafkaAuthenticationFailed = (message: string, cause?: unknown): ReconcileError =>
  new ReconcileError(Reason.KafkaAuthenticationFailed, message, false, { cause });
export const partitionDecrease = (message: string): ReconcileError =>
  new ReconcileError(Reason.PartitionDecreaseRefused, message, true);
/**
 * The API server refused the operator (403): the message names what, where, and which chart value
 * grants it. Rechecked every FORBIDDEN_RECHECK_MS: a fixed Role triggers no reconcile of its own.
 */
export const forbidden = (message: string, cause?: unknown): ReconcileError =>
  new ReconcileError(Reason.Forbidden, message, false, { cause, recheckAfterMs: FORBIDDEN_RECHECK_MS });

/**
 * A reset Kafka refuses for good (a topic that does not exist, a partition the topic lacks, an ACL
 * denial): retrying cannot help, so it fails at once, before anything is scaled.
 */
export class ResetRefusedError extends Error {
  /** Partitions already at their planned offset when it was refused (a commit compared first). */
  readonly written?: PartitionReset[];

  constructor(
    readonly reason: 'TopicNotFound' | 'Forbidden' | 'InvalidTarget' | 'OffsetsMoved',
    message: string,
    options?: { cause?: unknown; written?: PartitionReset[] },
  ) {
    super(message, options);
    this.name = 'ResetRefusedError';
    this.written = options?.written;
  }
}

/** An offset commit that stopped part-way: `written` are the partitions Kafka confirmed. */
export class OffsetCommitError extends Error {
  constructor(
    readonly written: PartitionReset[],
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'OffsetCommitError';
  }
}

/**
 * The condition reason for an error a concern did not classify itself: Kubernetes API refusals and
 * outages get their own reasons, so a missing RBAC rule never reads as "Kafka unavailable".
 * Recognised by shape (an HTTP status with body and headers, as client-node's ApiException has;
 * a failed or timed-out fetch; kafkajs' error names), keeping the controllers free of adapters.
 */
export function reasonForError(err: unknown, fallback: string): string {
  if (err instanceof ReconcileError) return err.reason;
  if (err instanceof ResetRefusedError) return err.reason;
  const e = err as { code?: unknown; body?: unknown; headers?: unknown; name?: unknown };
  if (typeof e?.code === 'number' && 'body' in e && 'headers' in e) {
    if (e.code === 401 || e.code === 403) return Reason.Forbidden;
    return Reason.KubernetesUnavailable;
  }
  if (isFailedFetch(err)) return Reason.KubernetesUnavailable;
  if (e?.name === 'KafkaJSSASLAuthenticationError') return Reason.KafkaAuthenticationFailed;
  if (typeof e?.name === 'string' && e.name.startsWith('KafkaJS')) return Reason.KafkaUnavailable;
  return fallback;
}

/**
 * A request client-node never got an answer to. client-node 2.x fetches with undici: a refused or
 * reset connection rejects with `TypeError: fetch failed` (the socket error as its cause), a
 * deadline (AbortSignal.timeout) with a TimeoutError and any other abort with an AbortError.
 */
export function isFailedFetch(err: unknown): boolean {
  const e = err as { name?: unknown; message?: unknown };
  if (e?.name === 'AbortError' || e?.name === 'TimeoutError') return true;
  // endsWith: the topic controller prefixes the message with the topic's name.
  return e?.name === 'TypeError' && typeof e.message === 'string' && e.message.endsWith('fetch failed');
}
