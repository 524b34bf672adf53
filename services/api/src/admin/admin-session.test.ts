import {
  adminSessionKeys,
  csrfTokenFor,
  csrfTokenValid,
  issueSession,
  secretsEqual,
  verifySession,
} from './admin-session.js';

const TOKEN = 'admin-token-of-at-least-thirty-two-characters';
const keys = adminSessionKeys(TOKEN);
const T0 = 1_800_000_000_000;
const HOUR = 3_600_000;

describe('admin sessions', () => {
  it('accepts its own cookie within the lifetime and refuses it after', () => {
    const cookie = issueSession(keys, T0);
    expect(verifySession(keys, cookie, T0 + HOUR, 8 * HOUR)).toEqual({ nonce: cookie.split('.')[1] });
    expect(verifySession(keys, cookie, T0 + 9 * HOUR, 8 * HOUR)).toBeUndefined();
  });

  it('never contains the admin token', () => {
    expect(issueSession(keys, T0)).not.toContain(TOKEN);
  });

  it('refuses a cookie signed with another token, a changed timestamp, or garbage', () => {
    const other = issueSession(adminSessionKeys(`${TOKEN}-rotated`), T0);
    expect(verifySession(keys, other, T0)).toBeUndefined();
    const [, nonce, mac] = issueSession(keys, T0).split('.');
    // Pushing the issue time forward would extend the session: the signature covers it.
    expect(verifySession(keys, `${T0 + HOUR}.${nonce}.${mac}`, T0 + HOUR)).toBeUndefined();
    for (const bad of ['', 'a.b', 'x.y.z', `${T0}.${nonce}`, `${T0}.${nonce}.${mac}.extra`]) {
      expect(verifySession(keys, bad, T0)).toBeUndefined();
    }
  });

  it('ties the CSRF token to one session', () => {
    const a = issueSession(keys, T0, 'nonce-aaaaaaaaaaaaaaaa');
    const b = issueSession(keys, T0, 'nonce-bbbbbbbbbbbbbbbb');
    const nonceA = verifySession(keys, a, T0)!.nonce;
    const nonceB = verifySession(keys, b, T0)!.nonce;
    expect(csrfTokenValid(keys, nonceA, csrfTokenFor(keys, nonceA))).toBe(true);
    expect(csrfTokenValid(keys, nonceB, csrfTokenFor(keys, nonceA))).toBe(false);
    expect(csrfTokenValid(keys, nonceA, undefined)).toBe(false);
    expect(csrfTokenValid(keys, nonceA, '')).toBe(false);
  });

  it('compares secrets of any length without throwing', () => {
    expect(secretsEqual(TOKEN, TOKEN)).toBe(true);
    expect(secretsEqual('short', TOKEN)).toBe(false);
    expect(secretsEqual(`${TOKEN}x`, TOKEN)).toBe(false);
  });
});
