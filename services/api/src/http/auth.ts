import type { Context, MiddlewareHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { decode, verify } from 'hono/jwt';
import { AppError, isUuid } from '@shopstream/shared';
import type { Logger } from '@shopstream/shared';
import { JwksKeys } from './jwks-keys.js';
import { VerifiedTokens } from './verified-tokens.js';
import { readHeader } from './request-input.js';

/** Claims checked on every token when configured (always in JWKS mode). */
interface ClaimRules {
  issuer?: string;
  audience?: string;
}

export type SellerAuthConfig =
  | ({ jwtSecret: string } & ClaimRules)
  | {
      jwksUrl: string;
      issuer: string;
      audience: string;
      /** Defaults: keys kept 10 min, at most one refresh per 30 s, 5 s per fetch. */
      jwksMaxAgeMs?: number;
      jwksMinRefreshIntervalMs?: number;
      jwksFetchTimeoutMs?: number;
      logger?: Logger;
      now?: () => number;
    };

export interface AuthVariables {
  sellerId: string;
  jwtPayload: Record<string, unknown>;
}

const JWKS_ALGORITHMS = ['RS256', 'ES256'] as const;

function unauthorized(error: string, description: string, cause?: unknown): HTTPException {
  return new HTTPException(401, {
    message: description,
    res: new Response(null, {
      headers: {
        'WWW-Authenticate': `Bearer realm="shopstream",error="${error}",error_description="${description}"`,
      },
    }),
    ...(cause !== undefined ? { cause } : {}),
  });
}

function bearerToken(c: Context): string {
  const credentials = readHeader(c, 'Authorization');
  if (!credentials) throw unauthorized('invalid_request', 'no authorization included in request');
  const parts = credentials.trim().split(/\s+/);
  if (parts.length !== 2 || parts[0]!.toLowerCase() !== 'bearer') {
    throw unauthorized('invalid_request', 'invalid credentials structure');
  }
  return parts[1]!;
}

/** The token's verifier: resolves with its claims, or throws a 401 (or 503 when keys are unavailable). */
type Verifier = (token: string) => Promise<Record<string, unknown>>;

function claimOptions(rules: ClaimRules): { iss?: string; aud?: string } {
  return {
    ...(rules.issuer ? { iss: rules.issuer } : {}),
    ...(rules.audience ? { aud: rules.audience } : {}),
  };
}

async function verified(work: () => Promise<Record<string, unknown>>): Promise<Record<string, unknown>> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof HTTPException || err instanceof AppError) throw err;
    throw unauthorized('invalid_token', 'token verification failure', err);
  }
}

function verifier(config: SellerAuthConfig): Verifier {
  if ('jwtSecret' in config) {
    const options = { alg: 'HS256' as const, ...claimOptions(config) };
    // The secret is fixed for the process, so a token verified once stays verified until its exp.
    const tokens = new VerifiedTokens();
    return (token) => tokens.claims(token, (t) => verified(() => verify(t, config.jwtSecret, options)));
  }
  const keys = new JwksKeys({
    url: config.jwksUrl,
    maxAgeMs: config.jwksMaxAgeMs ?? 10 * 60_000,
    minRefreshIntervalMs: config.jwksMinRefreshIntervalMs ?? 30_000,
    fetchTimeoutMs: config.jwksFetchTimeoutMs ?? 5_000,
    ...(config.logger ? { logger: config.logger } : {}),
    ...(config.now ? { now: config.now } : {}),
  });
  const options = claimOptions(config);
  return (token) =>
    verified(async () => {
      const { header } = decode(token);
      const alg = (header as { alg?: unknown }).alg;
      const kid = (header as { kid?: unknown }).kid;
      if (typeof alg !== 'string' || !(JWKS_ALGORITHMS as readonly string[]).includes(alg)) {
        throw unauthorized('invalid_token', `token algorithm must be one of ${JWKS_ALGORITHMS.join(', ')}`);
      }
      if (typeof kid !== 'string' || !kid) throw unauthorized('invalid_token', 'token header has no kid');
      const key = await keys.key(kid);
      if (!key) throw unauthorized('invalid_token', 'token is signed with an unknown key');
      if (key.alg && key.alg !== alg)
        throw unauthorized('invalid_token', 'token algorithm does not match its key');
      return verify(token, key, { alg: alg as (typeof JWKS_ALGORITHMS)[number], ...options });
    });
}

/**
 * Seller authentication for writes: a Bearer JWT (HS256 with a shared secret, or RS256/ES256 keys
 * from a JWKS URL with issuer and audience checked) with an `exp` and whose `sub` is the seller id.
 * Missing, expired, expiry-less, forged or subject-less tokens are rejected with 401 and a
 * `WWW-Authenticate` challenge before any handler runs; when the JWKS cannot be fetched the answer
 * is 503 (DependencyUnavailableError), since the token could not be judged.
 */
export function sellerAuth(config: SellerAuthConfig): MiddlewareHandler<{ Variables: AuthVariables }> {
  const verifyToken = verifier(config);
  return async (c, next) => {
    const payload = await verifyToken(bearerToken(c));
    if (typeof payload.exp !== 'number') {
      throw unauthorized('invalid_token', 'token has no exp (expiry) claim');
    }
    const sub = payload.sub;
    if (typeof sub !== 'string' || !isUuid(sub)) {
      throw unauthorized('invalid_token', 'subject is not a seller id');
    }
    c.set('jwtPayload', payload);
    c.set('sellerId', sub.toLowerCase());
    await next();
  };
}
