import type { FieldIssue } from '@shopstream/shared';

// In a `u` regex a paired surrogate is one code point outside Cs; only an unpaired one matches.
const LONE_SURROGATE = /\p{Cs}/u;
// Header values we read are tokens and numbers: printable ASCII, spaces and tabs.
const HEADER_TEXT = /^[\t\x20-\x7e]*$/;

/**
 * Why `text` cannot be taken as input, or undefined when it can: PostgreSQL cannot store U+0000 in
 * text or jsonb, and an unpaired UTF-16 surrogate is not a character (jsonb refuses its escape).
 */
export function textProblem(text: string): string | undefined {
  if (text.includes('\u0000')) return 'must not contain U+0000 (NUL)';
  if (LONE_SURROGATE.test(text)) return 'must not contain an unpaired UTF-16 surrogate';
  return undefined;
}

/**
 * Every string in `value` (object keys included) that `textProblem` refuses, named by its dotted
 * path the way zod issues are ("title", "tags.0"), `root` for `value` itself.
 */
export function textIssues(value: unknown, root: string, path: string[] = []): FieldIssue[] {
  const field = (p: string[]): string => (p.length ? p.join('.') : root);
  if (typeof value === 'string') {
    const message = textProblem(value);
    return message ? [{ field: field(path), message }] : [];
  }
  if (Array.isArray(value)) return value.flatMap((v, i) => textIssues(v, root, [...path, String(i)]));
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, v]) => {
      const keyProblem = textProblem(key);
      return [
        ...(keyProblem ? [{ field: field([...path, key]), message: `field name ${keyProblem}` }] : []),
        ...textIssues(v, root, [...path, key]),
      ];
    });
  }
  return [];
}

/**
 * Why a header value cannot be taken, or undefined. On the wire a header is bytes: Node refuses
 * U+0000 and other control bytes before we see them, and decodes the rest as Latin-1, so a
 * surrogate's UTF-8-style bytes (ED A0 80) arrive as three non-ASCII characters, refused here.
 */
export function headerProblem(value: string): string | undefined {
  return textProblem(value) ?? (HEADER_TEXT.test(value) ? undefined : 'must be printable ASCII');
}

/**
 * Decodes a URL query string strictly: a parameter whose percent-encoding is not UTF-8 (such as
 * `%ED%A0%80`, a lone surrogate's bytes) is an issue, where `decodeURIComponent`-with-fallback
 * (Hono's `c.req.query()`) would hand on the undecoded text. The first of repeated names wins.
 */
export function decodeQuery(search: string): { values: Record<string, string>; issues: FieldIssue[] } {
  const values = new Map<string, string>();
  const issues: FieldIssue[] = [];
  const text = search.startsWith('?') ? search.slice(1) : search;
  for (const pair of text ? text.split('&') : []) {
    if (!pair) continue;
    const at = pair.indexOf('=');
    const [rawName, rawValue] = at < 0 ? [pair, ''] : [pair.slice(0, at), pair.slice(at + 1)];
    const name = strictDecode(rawName) ?? rawName;
    const value = strictDecode(rawValue);
    if (value === undefined) issues.push({ field: name, message: 'must be percent-encoded UTF-8' });
    if (!values.has(name)) values.set(name, value ?? rawValue);
  }
  return { values: Object.fromEntries(values), issues };
}

function strictDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}
