import type { Context } from 'hono';
import { ValidationError } from '@shopstream/shared';
import type { z } from 'zod';
import { MalformedJsonError, UnsupportedMediaTypeError, fieldIssues } from './problem.js';

export const MAX_BODY_BYTES = 64 * 1024;

/**
 * Reads the request body as JSON and validates it with `schema`.
 * @throws UnsupportedMediaTypeError (415) unless the content type is JSON, MalformedJsonError (400),
 *   ValidationError (400) listing every offending field.
 */
export async function readJson<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  const type = (c.req.header('Content-Type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json' && !/^application\/[a-z0-9.+-]+\+json$/.test(type)) {
    throw new UnsupportedMediaTypeError(`content type must be application/json, got ${type || 'none'}`);
  }
  const text = await c.req.text();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new MalformedJsonError(`request body is not valid JSON: ${(err as Error).message}`);
  }
  return validate(schema, value, 'body');
}

/** @throws ValidationError listing every offending field of `value`. */
export function validate<S extends z.ZodType>(schema: S, value: unknown, root: string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new ValidationError(`invalid ${root}`, fieldIssues(result.error, root));
  return result.data;
}
