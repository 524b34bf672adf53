import { Reason } from './conditions.js';
import type { PartitionReset } from './pipeline-types.js';

/** An error the operator reports on the pipeline: `reason` becomes the Ready=False reason. */
export class ReconcileError extends Error {
  constructor(
    readonly reason: string,
    message: string,
    /** Terminal errors are not retried: only a spec change can fix them. */
    readonly terminal: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ReconcileError';
  }
}

export const invalidSpec = (message: string): ReconcileError =>
  new ReconcileError(Reason.InvalidSpec, message, true);
export const kafkaUnavailable = (message: string, cause?: unknown): ReconcileError =>
  new ReconcileError(Reason.KafkaUnavailable, message, false, { cause });
export const partitionDecrease = (message: string): ReconcileError =>
  new ReconcileError(Reason.PartitionDecreaseRefused, message, true);

/**
 * A reset Kafka refuses for good (a topic that does not exist, a partition the topic lacks, an ACL
 * denial): retrying cannot help, so it fails at once, before anything is scaled.
 */
export class ResetRefusedError extends Error {
  constructor(
    readonly reason: 'TopicNotFound' | 'Forbidden' | 'InvalidTarget',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ResetRefusedError';
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
