import { Reason } from './conditions.js';

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
