/**
 * One error hierarchy for every process. `code` is stable and machine-readable; `retriable` tells
 * callers (consumer, relay, operator) whether trying again can help; the HTTP layer maps `code` to a
 * status. Wrap causes with `{ cause }` and keep messages lower-case, naming what failed and its key.
 */
export abstract class AppError extends Error {
  abstract readonly code: string;
  readonly retriable: boolean = false;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** One offending input field, as listed in a problem+json `errors` array. */
export interface FieldIssue {
  field: string;
  message: string;
}

export class ValidationError extends AppError {
  readonly code = 'VALIDATION_FAILED';
  constructor(
    message: string,
    readonly issues: FieldIssue[] = [],
  ) {
    super(message);
  }
}
export class NotFoundError extends AppError {
  readonly code = 'NOT_FOUND';
}
export class ConflictError extends AppError {
  readonly code = 'CONFLICT';
}
export class PreconditionRequiredError extends AppError {
  readonly code = 'PRECONDITION_REQUIRED';
}
export class ForbiddenError extends AppError {
  readonly code = 'FORBIDDEN';
}
export class IdempotencyKeyReusedError extends AppError {
  readonly code = 'IDEMPOTENCY_KEY_REUSED';
}
export class DependencyUnavailableError extends AppError {
  readonly code = 'DEPENDENCY_UNAVAILABLE';
  override readonly retriable = true;
}
