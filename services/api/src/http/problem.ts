import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { AppError, DependencyUnavailableError, ValidationError } from '@shopstream/shared';
import type { FieldIssue, Logger } from '@shopstream/shared';
import type { ZodError } from 'zod';
import { isDatabaseUnavailable } from './database-unavailable.js';

export class MalformedJsonError extends AppError {
  readonly code = 'MALFORMED_JSON';
}
export class UnsupportedMediaTypeError extends AppError {
  readonly code = 'UNSUPPORTED_MEDIA_TYPE';
}
export class PayloadTooLargeError extends AppError {
  readonly code = 'PAYLOAD_TOO_LARGE';
}

const statusOf: Record<string, ContentfulStatusCode> = {
  VALIDATION_FAILED: 400,
  MALFORMED_JSON: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  IDEMPOTENCY_KEY_REUSED: 422,
  PRECONDITION_REQUIRED: 428,
  DEPENDENCY_UNAVAILABLE: 503,
};

const titleOf: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  428: 'Precondition Required',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** RFC 9457 problem details, with our stable `code` and, for bad input, every offending field. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  instance?: string;
  errors?: FieldIssue[];
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Seconds a client should wait before retrying a 503 (a PostgreSQL restart takes a few). */
export const RETRY_AFTER_SECONDS = 2;

export function problemResponse(
  c: Context,
  problem: Problem,
  headers: Record<string, string> = {},
): Response {
  return c.body(JSON.stringify(problem), problem.status as ContentfulStatusCode, {
    ...headers,
    'Content-Type': PROBLEM_CONTENT_TYPE,
  });
}

const problemType = (code: string): string =>
  `https://shopstream.io/problems/${code.toLowerCase().replace(/_/g, '-')}`;

/** Every zod issue as `{ field, message }`, the field a dotted path ("price", "body" for the whole). */
export function fieldIssues(error: ZodError, root = 'body'): FieldIssue[] {
  return error.issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ field: [...issue.path, key].join('.'), message: 'unknown field' }));
    }
    return [{ field: issue.path.length ? issue.path.join('.') : root, message: issue.message }];
  });
}

/**
 * An error as the AppError it stands for: a database that is down, restarting or out of
 * connections (`isDatabaseUnavailable`) is a DependencyUnavailableError, whatever layer threw it.
 */
export function classify(err: Error): Error {
  if (err instanceof AppError || !isDatabaseUnavailable(err)) return err;
  return new DependencyUnavailableError(
    'the database is unavailable; retry after Retry-After seconds (a POST with the same Idempotency-Key)',
    { cause: err },
  );
}

/**
 * The one error handler: handlers throw, this maps. AppErrors become their status, a retriable
 * one (503) with Retry-After; an unavailable database is classified as such (503, never 500);
 * Hono's own HTTPExceptions (JWT middleware) keep their status and WWW-Authenticate; anything else
 * is a 500 that is logged with its stack and says nothing about internals.
 */
export function onError(logger: Logger) {
  return (thrown: Error, c: Context): Response => {
    const instance = c.req.path;
    const err = classify(thrown);
    if (err instanceof AppError) {
      const status = statusOf[err.code] ?? 500;
      if (err.retriable) logger.warn({ err, path: instance }, 'dependency unavailable');
      else if (status >= 500) logger.error({ err, path: instance }, 'request failed');
      return problemResponse(
        c,
        {
          type: problemType(err.code),
          title: titleOf[status] ?? 'Error',
          status,
          detail: err.message,
          code: err.code,
          instance,
          ...(err instanceof ValidationError ? { errors: err.issues } : {}),
        },
        err.retriable ? { 'Retry-After': String(RETRY_AFTER_SECONDS) } : {},
      );
    }
    if (err instanceof HTTPException) {
      const status = err.status;
      const code = status === 401 ? 'UNAUTHORIZED' : `HTTP_${status}`;
      const headers: Record<string, string> = {};
      const challenge = err.res?.headers.get('WWW-Authenticate');
      if (challenge) headers['WWW-Authenticate'] = challenge;
      // Hono's JWT middleware says "Unauthorized" and keeps the reason (expired, bad signature) in `cause`.
      const reason = err.cause instanceof Error ? `: ${err.cause.message}` : '';
      return problemResponse(
        c,
        {
          type: problemType(code),
          title: titleOf[status] ?? 'Error',
          status,
          detail: `${err.message}${reason}`,
          code,
          instance,
        },
        headers,
      );
    }
    logger.error({ err, path: instance }, 'unhandled error');
    return problemResponse(c, {
      type: problemType('INTERNAL'),
      title: titleOf[500]!,
      status: 500,
      detail: 'the request failed; nothing was changed',
      code: 'INTERNAL',
      instance,
    });
  };
}

export function notFound(c: Context): Response {
  return problemResponse(c, {
    type: problemType('NOT_FOUND'),
    title: 'Not Found',
    status: 404,
    detail: `no route for ${c.req.method} ${c.req.path}`,
    code: 'NOT_FOUND',
    instance: c.req.path,
  });
}
