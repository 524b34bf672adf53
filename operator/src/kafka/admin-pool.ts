import { createHash } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import type { Admin, KafkaConfig } from 'kafkajs';
import { RefusalPauses } from '@shopstream/shared';
import { kafkaAuthenticationFailed } from '../controllers/errors.js';

/** Where and as whom an admin client connects. */
export interface KafkaTarget {
  bootstrapServers: string;
  /** kafkajs `ssl` and `sasl` (kafkaSecurityFromMaterial); none is plaintext. */
  security?: Pick<KafkaConfig, 'ssl' | 'sasl'>;
  /**
   * The one sentence for an error that is Kafka refusing this target's credentials or TLS
   * (kafkaSecurityFailure), undefined for any other: such an error becomes KafkaAuthenticationFailed.
   */
  explainRefusal?: (err: unknown) => string | undefined;
}

/** A target now, or one still to be worked out (Secrets to read) at the first use of the handle. */
export type KafkaTargetSource = string | KafkaTarget | (() => Promise<KafkaTarget>);

/** One user's access to a Kafka admin client: a reconcile's topic or consumer-group work. */
export interface AdminHandle {
  /** A connected admin client. */
  get(): Promise<Admin>;
  /**
   * Runs `work`; an error it throws, unless `isRefusal` says it is Kafka refusing the request
   * rather than failing, marks the client as not to be trusted again. Kafka refusing the login or
   * the TLS handshake is rethrown as ReconcileError KafkaAuthenticationFailed.
   */
  track<T>(work: () => Promise<T>, isRefusal?: (err: unknown) => boolean): Promise<T>;
  /** Ends this use. A pooled client that failed is dropped: the next use connects afresh, as after a broker restart. */
  close(): Promise<void>;
}

/**
 * The failure bookkeeping every handle shares; `end` learns whether a tracked call failed.
 * `refused` turns a security refusal into the error to throw (undefined: not one).
 */
function handleOf(
  get: () => Promise<Admin>,
  end: (failed: boolean) => Promise<void>,
  refused: (err: unknown) => Error | undefined = () => undefined,
): AdminHandle {
  let failed = false;
  return {
    get,
    async track(work, isRefusal = () => false) {
      try {
        return await work();
      } catch (err) {
        const refusal = refused(err);
        if (refusal) {
          failed = true;
          throw refusal;
        }
        if (!isRefusal(err)) failed = true;
        throw err;
      }
    },
    async close() {
      const wasFailed = failed;
      failed = false;
      await end(wasFailed);
    },
  };
}

const brokersOf = (bootstrapServers: string): string[] => bootstrapServers.split(',').map((b) => b.trim());

const targetOf = (target: string | KafkaTarget): KafkaTarget =>
  typeof target === 'string' ? { bootstrapServers: target } : target;

const newAdmin = (target: KafkaTarget): Admin =>
  new Kafka({
    clientId: 'shopstream-operator',
    brokers: brokersOf(target.bootstrapServers),
    logLevel: logLevel.NOTHING,
    retry: { retries: 2 },
    ...target.security,
  }).admin();

/**
 * The pool key of a target: the bootstrap string, and a digest of its security material when it has
 * any. Two pipelines logging in as different users never share a client, and a rotated Secret
 * (new password, new certificate) gets a new one; the digest keeps the material out of the key.
 */
export function targetKey(target: KafkaTarget): string {
  const bootstrap = brokersOf(target.bootstrapServers).join(',');
  const security = target.security ?? {};
  if (!security.ssl && !security.sasl) return bootstrap;
  const digest = createHash('sha256').update(JSON.stringify(security)).digest('hex').slice(0, 16);
  return `${bootstrap}#${digest}`;
}

/** A client of its own, disconnected on close: one-off tools' way to Kafka. */
export function privateAdmin(target: string | KafkaTarget): AdminHandle {
  const resolved = targetOf(target);
  const admin = newAdmin(resolved);
  let connected = false;
  return handleOf(
    async () => {
      if (!connected) {
        await admin.connect();
        connected = true;
      }
      return admin;
    },
    async () => {
      if (connected) await admin.disconnect();
      connected = false;
    },
    (err) => {
      if (err instanceof Error && 'reason' in err) return undefined;
      const message = resolved.explainRefusal?.(err);
      return message === undefined ? undefined : kafkaAuthenticationFailed(message, err);
    },
  );
}

interface Entry {
  admin: Admin;
  connected: Promise<void>;
  lastUsedMs: number;
}

export interface KafkaAdminPoolOptions {
  /** A client unused this long is disconnected at the next use of the pool (a bootstrap no pipeline names any more). */
  idleMs?: number;
  /** Called for every new connection: what the operator's connections metric counts. */
  onConnect?: (bootstrapServers: string) => void;
  /**
   * After Kafka refused a target's credentials or TLS, no new login with the same material for
   * this long, doubling per refusal up to `maxMs` (default 10 s → 5 min): every reconcile in
   * between gets the same error without a connection, so a wrong password costs the broker a
   * handful of logins, whatever the reconciles' cadence. A changed Secret is a new target: at once.
   */
  refusalBackoff?: { baseMs: number; maxMs: number };
  now?: () => number;
}

/**
 * One admin client per target (bootstrap string and security material), kept across reconciles:
 * a hundred pipelines on one Kafka cluster as one user share one connection instead of opening one
 * per pipeline per poll. A client that saw an error is dropped, so a broker that went away costs one
 * reconnect, never a dead client kept. A target Kafka refused (login, TLS) is not tried again before
 * its refusal backoff has passed. No timers: idle clients are swept when the pool is used, and
 * close() ends them all.
 */
export class KafkaAdminPool {
  private readonly entries = new Map<string, Entry>();
  private readonly refusals: RefusalPauses;
  private readonly idleMs: number;
  private readonly now: () => number;

  constructor(private readonly options: KafkaAdminPoolOptions = {}) {
    this.idleMs = options.idleMs ?? 10 * 60_000;
    this.now = options.now ?? Date.now;
    this.refusals = new RefusalPauses({ ...options.refusalBackoff, now: this.now });
  }

  /** How many clients are open (or opening). */
  get size(): number {
    return this.entries.size;
  }

  /** `source`: a bootstrap string (plaintext), a target, or how to work one out (read at the first get()). */
  handle(source: KafkaTargetSource): AdminHandle {
    let target: KafkaTarget | undefined;
    let key: string | undefined;
    let used: Entry | undefined;
    return handleOf(
      async () => {
        if (!target) {
          target = typeof source === 'function' ? await source() : targetOf(source);
          key = targetKey(target);
        }
        this.sweep();
        const refusal = this.refusals.active(key!);
        if (refusal) throw kafkaAuthenticationFailed(refusal.message); // a fresh error: callers prefix messages
        used = this.entries.get(key!) ?? this.open(key!, target);
        used.lastUsedMs = this.now();
        await used.connected;
        this.refusals.succeeded(key!);
        return used.admin;
      },
      async (failed) => {
        if (failed && used && key) await this.drop(key, used);
        used = undefined;
      },
      (err) => {
        if (!target || !key || (err instanceof Error && 'reason' in err)) return undefined;
        const message = target.explainRefusal?.(err);
        if (message === undefined) return undefined;
        this.refusals.refused(key, message);
        return kafkaAuthenticationFailed(message, err);
      },
    );
  }

  async close(): Promise<void> {
    const all = [...this.entries.entries()];
    await Promise.all(all.map(([key, entry]) => this.drop(key, entry)));
  }

  private open(key: string, target: KafkaTarget): Entry {
    const admin = newAdmin(target);
    const entry: Entry = { admin, connected: admin.connect(), lastUsedMs: this.now() };
    this.entries.set(key, entry);
    this.options.onConnect?.(brokersOf(target.bootstrapServers).join(','));
    // A failed connect is not kept: the next reconcile tries again with a new client.
    entry.connected.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    return entry;
  }

  private async drop(key: string, entry: Entry): Promise<void> {
    if (this.entries.get(key) === entry) this.entries.delete(key);
    await entry.admin.disconnect().catch(() => undefined);
  }

  private sweep(): void {
    const horizon = this.now() - this.idleMs;
    for (const [key, entry] of this.entries) if (entry.lastUsedMs < horizon) void this.drop(key, entry);
    this.refusals.forgetEndedBefore(horizon);
  }
}
