type Claims = Record<string, unknown>;

/**
 * Remembers tokens whose signature and claims were verified, until their `exp`: a seller sends the
 * same token with every request for its lifetime, and checking an HMAC through WebCrypto cost more
 * CPU per write than anything else the API does. Only what cannot change is reused: the signature
 * (the key is fixed for the process) and iss/aud; `exp` is compared with the clock on every hit,
 * and nbf/iat, already in the past when the token was verified, stay there. Tokens that failed are
 * never kept, and the map holds at most `maxEntries` (oldest dropped first).
 */
export class VerifiedTokens {
  private readonly entries = new Map<string, { claims: Claims; exp: number }>();

  constructor(
    private readonly maxEntries = 10_000,
    private readonly nowSeconds: () => number = () => Math.floor(Date.now() / 1000),
  ) {}

  /** The claims of `token`, from memory while it is unexpired, otherwise from `verify` (which may throw). */
  async claims(token: string, verify: (token: string) => Promise<Claims>): Promise<Claims> {
    const known = this.entries.get(token);
    if (known && known.exp > this.nowSeconds()) return known.claims;
    if (known) this.entries.delete(token);
    const claims = await verify(token);
    if (typeof claims.exp === 'number' && Number.isFinite(claims.exp)) {
      if (this.entries.size >= this.maxEntries) {
        const oldest = this.entries.keys().next();
        if (!oldest.done) this.entries.delete(oldest.value);
      }
      this.entries.set(token, { claims: Object.freeze(claims), exp: claims.exp });
    }
    return claims;
  }
}
