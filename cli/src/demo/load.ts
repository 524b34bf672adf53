import { chooseOperation, ProductRotation } from './plan.js';

export interface LoadOptions {
  apiUrl: string;
  /** Bearer token of the seller the products belong to. */
  token: string;
  ratePerSecond: number;
  durationSeconds: number;
  /** Share of the requests that update a product the run created (0: creates only). */
  updateShare: number;
  /** Creates before the first update, so updates spread over many products. */
  warmupCreates?: number;
  /**
   * Requests allowed in flight; a request due while that many are waiting is not sent (counted as
   * skipped) so an API that cannot keep up shows as a lower achieved rate, not an unbounded queue.
   */
  maxInFlight?: number;
  /** Called about every 100 ms while sending. */
  onProgress?: (progress: LoadProgress) => void;
}

export interface LoadProgress {
  scheduled: number;
  total: number;
  sent: number;
  ok: number;
  failed: number;
  inFlight: number;
}

export interface LoadResult {
  /** Requests due by the rate and duration. */
  scheduled: number;
  sent: number;
  ok: number;
  failed: number;
  skippedOverloaded: number;
  creates: { ok: number; failed: number };
  updates: { ok: number; failed: number };
  /** Failures by HTTP status, or by error code when there was no response. */
  failures: Record<string, number>;
  startedAt: Date;
  sendSeconds: number;
  achievedRate: number;
  /** Every product the run created, with the version its successful writes left it at. */
  products: ReadonlyMap<string, number>;
}

/**
 * Drives product creates and updates through the API at a steady rate for a duration, and waits
 * for every request to answer. The one load driver of `shopstream demo` and `npm run bench:e2e`.
 */
export async function driveLoad(options: LoadOptions): Promise<LoadResult> {
  const total = Math.round(options.ratePerSecond * options.durationSeconds);
  const maxInFlight = options.maxInFlight ?? 200;
  const warmupCreates = options.warmupCreates ?? Math.min(50, Math.ceil(total / 10));
  const products = new ProductRotation();
  const failures: Record<string, number> = {};
  const creates = { ok: 0, failed: 0 };
  const updates = { ok: 0, failed: 0 };
  let scheduled = 0;
  let sent = 0;
  let inFlight = 0;
  let skipped = 0;
  const headers = { Authorization: `Bearer ${options.token}`, 'Content-Type': 'application/json' };
  const fail = (counter: { failed: number }, reason: string) => {
    counter.failed++;
    failures[reason] = (failures[reason] ?? 0) + 1;
  };
  const reasonOf = (err: unknown) => {
    const e = err as Error & { cause?: { code?: string } };
    return e.cause?.code ?? e.name;
  };

  const create = async (n: number): Promise<void> => {
    const body = {
      title: `Demo product ${n}`,
      description: 'shopstream demo',
      price: 19.99,
      stock: n % 1000,
    };
    try {
      const response = await fetch(`${options.apiUrl}/products`, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
      });
      if (response.status !== 201) {
        await response.body?.cancel();
        return fail(creates, String(response.status));
      }
      const product = (await response.json()) as { id: string; version: number };
      creates.ok++;
      products.add(product.id, product.version);
    } catch (err) {
      fail(creates, reasonOf(err));
    }
  };

  const update = async (target: { id: string; version: number }, n: number): Promise<void> => {
    let version = target.version;
    try {
      const response = await fetch(`${options.apiUrl}/products/${target.id}`, {
        method: 'PATCH',
        headers: { ...headers, 'If-Match': `"${target.version}"` },
        body: JSON.stringify({ stock: n % 1000, price: (10 + (n % 90)).toFixed(2) }),
      });
      if (response.status !== 200) {
        await response.body?.cancel();
        return fail(updates, String(response.status));
      }
      version = ((await response.json()) as { version: number }).version;
      updates.ok++;
    } catch (err) {
      fail(updates, reasonOf(err));
    } finally {
      products.giveBack(target.id, version);
    }
  };

  const startedAt = new Date();
  const started = performance.now();
  let lastProgress = 0;
  const progress = (): LoadProgress => ({
    scheduled,
    total,
    sent,
    ok: creates.ok + updates.ok,
    failed: creates.failed + updates.failed,
    inFlight,
  });
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const now = performance.now();
      const due = Math.min(total, Math.floor(((now - started) / 1000) * options.ratePerSecond));
      while (scheduled < due) {
        const index = scheduled++;
        if (inFlight >= maxInFlight) {
          skipped++;
          continue;
        }
        const operation = chooseOperation(index, {
          updateShare: options.updateShare,
          warmupCreates,
          idleProducts: products.idleCount,
        });
        const target = operation === 'update' ? products.take() : undefined;
        sent++;
        inFlight++;
        void (target ? update(target, index) : create(index)).finally(() => inFlight--);
      }
      if (options.onProgress && now - lastProgress >= 100) {
        lastProgress = now;
        options.onProgress(progress());
      }
      if (scheduled >= total && inFlight === 0) {
        clearInterval(tick);
        resolve();
      }
    }, 5);
  });
  options.onProgress?.(progress());
  const sendSeconds = (performance.now() - started) / 1000;
  const ok = creates.ok + updates.ok;
  return {
    scheduled,
    sent,
    ok,
    failed: creates.failed + updates.failed,
    skippedOverloaded: skipped,
    creates,
    updates,
    failures,
    startedAt,
    sendSeconds,
    achievedRate: ok / Math.max(sendSeconds, 1e-9),
    products: products.finalVersions,
  };
}
