import { VerifiedTokens } from './verified-tokens.js';

describe('VerifiedTokens', () => {
  let now = 1_000;
  const tokens = () => new VerifiedTokens(2, () => now);
  const verifier = (claims: Record<string, unknown>) => {
    const calls: string[] = [];
    const verify = (token: string) => {
      calls.push(token);
      return Promise.resolve({ ...claims });
    };
    return { calls, verify };
  };
  beforeEach(() => {
    now = 1_000;
  });

  it('verifies a token once and answers its claims from memory until it expires', async () => {
    const cache = tokens();
    const { calls, verify } = verifier({ sub: 's', exp: 1_010 });
    expect(await cache.claims('a', verify)).toEqual({ sub: 's', exp: 1_010 });
    now = 1_009;
    expect(await cache.claims('a', verify)).toEqual({ sub: 's', exp: 1_010 });
    expect(calls).toEqual(['a']);
  });

  it('verifies again once exp is reached, so an expired token meets the full check and its error', async () => {
    const cache = tokens();
    await cache.claims('a', verifier({ exp: 1_010 }).verify);
    now = 1_010;
    await expect(cache.claims('a', () => Promise.reject(new Error('token expired')))).rejects.toThrow(
      'token expired',
    );
  });

  it('never keeps a token whose verification failed, nor one without a numeric exp', async () => {
    const cache = tokens();
    await expect(cache.claims('bad', () => Promise.reject(new Error('forged')))).rejects.toThrow('forged');
    await expect(cache.claims('bad', () => Promise.reject(new Error('forged')))).rejects.toThrow('forged');
    const { calls, verify } = verifier({ sub: 's' });
    await cache.claims('no-exp', verify);
    await cache.claims('no-exp', verify);
    expect(calls).toEqual(['no-exp', 'no-exp']);
  });

  it('holds at most its capacity, dropping the oldest token first', async () => {
    const cache = tokens();
    const { calls, verify } = verifier({ exp: 2_000 });
    for (const t of ['a', 'b', 'c', 'a']) await cache.claims(t, verify);
    expect(calls).toEqual(['a', 'b', 'c', 'a']);
  });
});
