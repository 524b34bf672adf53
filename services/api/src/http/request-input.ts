import type { Context } from 'hono';
import { ValidationError } from '@shopstream/shared';
import type { FieldIssue } from '@shopstream/shared';
import type { z } from 'zod';
import { MalformedJsonError, UnsupportedMediaTypeError, fieldIssues } from './problem.js';
import { decodeQuery, headerProblem, textIssues } from './well-formed-text.js';

export const MAX_BODY_BYTES = 64 * 1024;

/**
 * The one way handlers read request input — body, query, path parameters, headers — so every
 * string passes the same rules (no U+0000, no unpaired surrogate, well-formed encoding) before a
 * schema sees it, and a refusal is a 400 naming each offending field.
 */

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads the request body as JSON and validates it with `schema`.
 * @throws UnsupportedMediaTypeError (415) unless the content type is JSON, MalformedJsonError (400)
 *   for bytes that are not UTF-8 JSON, ValidationError (400) listing every offending field.
 */
export async function readJson<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  const type = (c.req.header('Content-Type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json' && !/^application\/[a-z0-9.+-]+\+json$/.test(type)) {
    throw new UnsupportedMediaTypeError(`content type must be application/json, got ${type || 'none'}`);
  }
  const bytes = await c.req.arrayBuffer();
  let text: string;
  try {
    // Fatal decoding: invalid UTF-8 (a surrogate's bytes among them) is refused, not turned into U+FFFD.
    text = utf8.decode(bytes);
  } catch {
    throw new MalformedJsonError('request body is not valid UTF-8');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new MalformedJsonError(`request body is not valid JSON: ${(err as Error).message}`);
  }
  return validate(schema, value, 'body');
}

/** The query string, decoded strictly, validated with `schema`. @throws ValidationError */
export function readQuery<S extends z.ZodType>(c: Context, schema: S): z.output<S> {
  const { values, issues } = decodeQuery(new URL(c.req.url).search);
  return validate(schema, values, 'query', issues);
}

/** The path parameter `name` validated with `schema`; the field is named after the parameter. @throws ValidationError */
export function readParam<S extends z.ZodType>(c: Context, name: string, schema: S): z.output<S> {
  return validate(schema, c.req.param(name) as string | undefined, name);
}

/** A request header we act on, or undefined when absent. @throws ValidationError naming the header */
export function readHeader(c: Context, name: string): string | undefined {
  const value = c.req.header(name);
  if (value === undefined) return undefined;
  const message = headerProblem(value);
  if (message) throw new ValidationError(`invalid ${name}`, [{ field: name, message }]);
  return value;
}

/**
 * Validates `value` with `schema` after the text rules, adding `issues` found while decoding it.
 * @throws ValidationError listing every offending field of `value`.
 */
export function validate<S extends z.ZodType>(
  schema: S,
  value: unknown,
  root: string,
  issues: FieldIssue[] = [],
): z.output<S> {
  const result = schema.safeParse(value);
  const all = [
    ...issues,
    ...textIssues(value, root),
    ...(result.success ? [] : fieldIssues(result.error, root)),
  ];
  if (all.length || !result.success) {
    const unique = new Map(all.map((i) => [JSON.stringify([i.field, i.message]), i]));
    throw new ValidationError(`invalid ${root}`, [...unique.values()]);
  }
  return result.data;
}
