import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Admin sessions without server-side state: the cookie holds `<issuedAtMs>.<nonce>.<mac>`, signed
 * with a key derived from ADMIN_TOKEN. The raw token never leaves the login request, and rotating
 * the token invalidates every session at once.
 */
export interface AdminSessionKeys {
  readonly sessionKey: Buffer;
}

export const SESSION_COOKIE = 'shopstream_admin';
export const DEFAULT_SESSION_TTL_MS = 8 * 60 * 60 * 1000;

const mac = (key: Buffer, data: string): string => createHmac('sha256', key).update(data).digest('base64url');

/** Derives the signing key once at start-up; a separate purpose string keeps it apart from CSRF tokens. */
export function adminSessionKeys(adminToken: string): AdminSessionKeys {
  return { sessionKey: createHmac('sha256', adminToken).update('shopstream-admin-session-v1').digest() };
}

/**
 * Constant-time comparison of a presented secret with the configured one. Both sides are hashed
 * first so their lengths match and the comparison time says nothing about the token's length.
 */
export function secretsEqual(presented: string, expected: string): boolean {
  const digest = (s: string): Buffer => createHmac('sha256', 'shopstream-admin-compare').update(s).digest();
  return timingSafeEqual(digest(presented), digest(expected));
}

export function issueSession(
  keys: AdminSessionKeys,
  nowMs: number,
  nonce = randomBytes(18).toString('base64url'),
): string {
  const body = `${nowMs}.${nonce}`;
  return `${body}.${mac(keys.sessionKey, body)}`;
}

/** @returns the session's nonce when the cookie is authentic and not older than `ttlMs`, else undefined. */
export function verifySession(
  keys: AdminSessionKeys,
  cookie: string | undefined,
  nowMs: number,
  ttlMs = DEFAULT_SESSION_TTL_MS,
): { nonce: string } | undefined {
  if (!cookie) return undefined;
  const parts = cookie.split('.');
  if (parts.length !== 3) return undefined;
  const [issuedAt, nonce, signature] = parts as [string, string, string];
  if (!/^\d{1,15}$/.test(issuedAt) || !/^[A-Za-z0-9_-]{16,64}$/.test(nonce)) return undefined;
  const expected = Buffer.from(mac(keys.sessionKey, `${issuedAt}.${nonce}`));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  const age = nowMs - Number(issuedAt);
  // A cookie "from the future" means a clock jump or a forgery attempt with a stolen key: refuse it.
  if (age < -60_000 || age > ttlMs) return undefined;
  return { nonce };
}

/** The CSRF token of one session: forms carry it, and it is worthless with any other session. */
export function csrfTokenFor(keys: AdminSessionKeys, nonce: string): string {
  return mac(keys.sessionKey, `csrf.${nonce}`);
}

export function csrfTokenValid(keys: AdminSessionKeys, nonce: string, presented: unknown): boolean {
  if (typeof presented !== 'string' || presented.length === 0) return false;
  const expected = Buffer.from(csrfTokenFor(keys, nonce));
  const given = Buffer.from(presented);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
