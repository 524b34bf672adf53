import { describe, expect, it } from '@jest/globals';
import { verify } from 'hono/jwt';
import { signSellerToken, tokenSubject } from './jwt.js';

describe('signSellerToken', () => {
  const secret = 'a-secret-of-at-least-32-characters-long';
  const seller = '3fa85f64-5717-4562-b3fc-2c963f66afa6';

  it('is a token the API’s verifier (hono/jwt, HS256) accepts, with the seller as subject', async () => {
    const token = signSellerToken(seller, secret, 60);
    await expect(verify(token, secret, 'HS256')).resolves.toMatchObject({ sub: seller });
    expect(tokenSubject(token)).toBe(seller);
  });

  it('is refused with another secret or once expired', async () => {
    await expect(verify(signSellerToken(seller, secret), `${secret}x`, 'HS256')).rejects.toThrow();
    const expired = signSellerToken(seller, secret, 60, Date.now() - 3600_000);
    await expect(verify(expired, secret, 'HS256')).rejects.toThrow();
  });

  it('tokenSubject is undefined for something that is not a JWT with a subject', () => {
    expect(tokenSubject('not-a-token')).toBeUndefined();
    expect(tokenSubject('a.b.c')).toBeUndefined();
    expect(tokenSubject(`x.${Buffer.from('{"iss":"me"}').toString('base64url')}.y`)).toBeUndefined();
  });
});
