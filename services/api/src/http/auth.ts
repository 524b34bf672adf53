import type { MiddlewareHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { jwk } from 'hono/jwk';
import { jwt } from 'hono/jwt';
import { isUuid } from '@shopstream/shared';

export type SellerAuthConfig = { jwtSecret: string } | { jwksUrl: string };

export interface AuthVariables {
  sellerId: string;
  jwtPayload: Record<string, unknown>;
}

/**
 * Seller authentication for writes: a Bearer JWT (HS256 with a shared secret, or RS/ES keys from a
 * JWKS URL) whose `sub` is the seller id. Missing, expired, forged or subject-less tokens are
 * rejected with 401 and a `WWW-Authenticate` challenge before any handler runs.
 */
export function sellerAuth(config: SellerAuthConfig): MiddlewareHandler<{ Variables: AuthVariables }> {
  const verify =
    'jwtSecret' in config
      ? jwt({ secret: config.jwtSecret, alg: 'HS256', realm: 'shopstream' })
      : jwk({ jwks_uri: config.jwksUrl, alg: ['RS256', 'ES256'] });
  return async (c, next) => {
    await verify(c, async () => {
      const sub = c.get('jwtPayload')?.sub;
      if (typeof sub !== 'string' || !isUuid(sub)) {
        throw new HTTPException(401, {
          message: 'token subject must be a seller id (UUID)',
          res: new Response(null, {
            headers: {
              'WWW-Authenticate':
                'Bearer realm="shopstream",error="invalid_token",error_description="subject is not a seller id"',
            },
          }),
        });
      }
      c.set('sellerId', sub.toLowerCase());
      await next();
    });
  };
}
