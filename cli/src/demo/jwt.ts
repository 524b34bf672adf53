import { createHmac } from 'node:crypto';

const base64url = (data: string | Buffer): string => Buffer.from(data).toString('base64url');

/**
 * An HS256 JWT as the API verifies it (JWT_SECRET, `sub` = seller id, DESIGN §7), so the demo can
 * act as a seller with nothing but the local secret. A dozen lines of node:crypto instead of a
 * JWT dependency in the CLI.
 */
export function signSellerToken(seller: string, secret: string, ttlSeconds = 3600, now = Date.now()): string {
  const header = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const payload = base64url(JSON.stringify({ sub: seller, exp: Math.floor(now / 1000) + ttlSeconds }));
  const signature = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${signature}`;
}

/** The `sub` of a JWT (not verified: the API does that), or undefined when it has none. */
export function tokenSubject(token: string): string | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { sub?: unknown };
    return typeof claims.sub === 'string' ? claims.sub : undefined;
  } catch {
    return undefined;
  }
}
