import type { webcrypto } from 'node:crypto';
import { DependencyUnavailableError } from '@shopstream/shared';
import type { Logger } from '@shopstream/shared';

/** A public key of the identity provider's set, as JSON (RFC 7517). */
export interface Jwk extends webcrypto.JsonWebKey {
  kid?: string;
  use?: string;
}

export interface JwksOptions {
  url: string;
  /** Keys older than this are fetched again when next needed (a stale set is still used if that fails). */
  maxAgeMs: number;
  /** At most one fetch per interval, however many tokens name an unknown `kid`. */
  minRefreshIntervalMs: number;
  /** Deadline of one fetch. */
  fetchTimeoutMs: number;
  logger?: Logger;
  /** Milliseconds on a monotonic clock; injectable so tests need not wait out the interval. */
  now?: () => number;
}

/**
 * The identity provider's signing keys (JWKS), cached. A token whose `kid` the cached set lacks
 * triggers a refresh (key rotation), but at most once per `minRefreshIntervalMs`, so a flood of
 * forged `kid`s cannot turn into a flood of requests to the provider; concurrent callers share one
 * fetch. When the set cannot be fetched and no cached key answers, the caller gets a
 * DependencyUnavailableError (503): the token was not judged, so it must not be refused as 401.
 */
export class JwksKeys {
  private keys = new Map<string, Jwk>();
  private loadedAt: number | undefined;
  private attemptedAt: number | undefined;
  private lastFailure: unknown;
  private inFlight: Promise<void> | undefined;
  private readonly now: () => number;

  constructor(private readonly options: JwksOptions) {
    this.now = options.now ?? (() => performance.now());
  }

  /**
   * The key named `kid`, or undefined when a fresh set does not have it (the token is not ours).
   * @throws DependencyUnavailableError when the set is needed and cannot be fetched.
   */
  async key(kid: string): Promise<Jwk | undefined> {
    const cached = this.keys.get(kid);
    const now = this.now();
    const fresh = this.loadedAt !== undefined && now - this.loadedAt < this.options.maxAgeMs;
    if (cached && fresh) return cached;
    const mayRefresh =
      this.attemptedAt === undefined || now - this.attemptedAt >= this.options.minRefreshIntervalMs;
    if (mayRefresh || this.inFlight) {
      try {
        await this.refresh();
      } catch (err) {
        if (cached) {
          this.options.logger?.warn({ err, url: this.options.url }, 'jwks refresh failed; using cached keys');
          return cached;
        }
        throw unavailable(this.options.url, err);
      }
      return this.keys.get(kid);
    }
    if (cached) return cached;
    // Rate-limited and the last attempt failed: the provider is down, not the token wrong.
    if (this.lastFailure !== undefined) throw unavailable(this.options.url, this.lastFailure);
    return undefined;
  }

  private refresh(): Promise<void> {
    this.inFlight ??= this.fetchKeys().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async fetchKeys(): Promise<void> {
    this.attemptedAt = this.now();
    try {
      const res = await fetch(this.options.url, {
        signal: AbortSignal.timeout(this.options.fetchTimeoutMs),
        headers: { Accept: 'application/json' },
      });
      if (!res.ok) throw new Error(`jwks answered ${res.status}`);
      const body = (await res.json()) as { keys?: unknown };
      if (!Array.isArray(body.keys)) throw new Error('jwks response has no "keys" array');
      const keys = new Map<string, Jwk>();
      for (const key of body.keys as Jwk[]) {
        if (key && typeof key.kid === 'string' && key.use !== 'enc') keys.set(key.kid, key);
      }
      this.keys = keys;
      this.loadedAt = this.now();
      this.lastFailure = undefined;
    } catch (err) {
      this.lastFailure = err;
      throw err;
    }
  }
}

function unavailable(url: string, cause: unknown): DependencyUnavailableError {
  return new DependencyUnavailableError(`the token signing keys could not be fetched from ${url}`, { cause });
}
