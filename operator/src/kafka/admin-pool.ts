import { Kafka, logLevel } from 'kafkajs';
import type { Admin } from 'kafkajs';

/** One user's access to a Kafka admin client: a reconcile's topic or consumer-group work. */
export interface AdminHandle {
  /** A connected admin client. */
  get(): Promise<Admin>;
  /**
   * Runs `work`; an error it throws, unless `isRefusal` says it is Kafka refusing the request
   * rather than failing, marks the client as not to be trusted again.
   */
  track<T>(work: () => Promise<T>, isRefusal?: (err: unknown) => boolean): Promise<T>;
  /** Ends this use. A pooled client that failed is dropped: the next use connects afresh, as after a broker restart. */
  close(): Promise<void>;
}

/** The failure bookkeeping every handle shares; `end` learns whether a tracked call failed. */
function handleOf(get: () => Promise<Admin>, end: (failed: boolean) => Promise<void>): AdminHandle {
  let failed = false;
  return {
    get,
    async track(work, isRefusal = () => false) {
      try {
        return await work();
      } catch (err) {
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

const newAdmin = (bootstrapServers: string): Admin =>
  new Kafka({
    clientId: 'shopstream-operator',
    brokers: bootstrapServers.split(',').map((b) => b.trim()),
    logLevel: logLevel.NOTHING,
    retry: { retries: 2 },
  }).admin();

/** A client of its own, disconnected on close: the CLI's and one-off tools' way to Kafka. */
export function privateAdmin(bootstrapServers: string): AdminHandle {
  const admin = newAdmin(bootstrapServers);
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
  now?: () => number;
}

/**
 * One admin client per bootstrap string, kept across reconciles: a hundred pipelines on one Kafka
 * cluster share one connection instead of opening one per pipeline per poll. A client that saw an
 * error is dropped, so a broker that went away costs one reconnect, never a dead client kept.
 * No timers: idle clients are swept when the pool is used, and close() ends them all.
 */
export class KafkaAdminPool {
  private readonly entries = new Map<string, Entry>();
  private readonly idleMs: number;
  private readonly now: () => number;

  constructor(private readonly options: KafkaAdminPoolOptions = {}) {
    this.idleMs = options.idleMs ?? 10 * 60_000;
    this.now = options.now ?? Date.now;
  }

  /** How many clients are open (or opening). */
  get size(): number {
    return this.entries.size;
  }

  handle(bootstrapServers: string): AdminHandle {
    const key = bootstrapServers
      .split(',')
      .map((b) => b.trim())
      .join(',');
    let used: Entry | undefined;
    return handleOf(
      async () => {
        this.sweep();
        used = this.entries.get(key) ?? this.open(key);
        used.lastUsedMs = this.now();
        await used.connected;
        return used.admin;
      },
      async (failed) => {
        if (failed && used) await this.drop(key, used);
        used = undefined;
      },
    );
  }

  async close(): Promise<void> {
    const all = [...this.entries.entries()];
    await Promise.all(all.map(([key, entry]) => this.drop(key, entry)));
  }

  private open(key: string): Entry {
    const admin = newAdmin(key);
    const entry: Entry = { admin, connected: admin.connect(), lastUsedMs: this.now() };
    this.entries.set(key, entry);
    this.options.onConnect?.(key);
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
  }
}
