/** The pure parts of driving load and judging its outcome: no clock, no network, no database. */

export type Operation = 'create' | 'update';

/**
 * What the `index`-th request does: the first `warmupCreates` create products to work on; after
 * that `updateShare` of the requests update one (spread evenly, not at random, so a run's mix is
 * exact and repeatable), falling back to a create while every product has a request in flight.
 */
export function chooseOperation(
  index: number,
  options: { updateShare: number; warmupCreates: number; idleProducts: number },
): Operation {
  const { updateShare, warmupCreates, idleProducts } = options;
  if (index < warmupCreates || idleProducts === 0 || updateShare <= 0) return 'create';
  const n = index - warmupCreates;
  return Math.floor((n + 1) * updateShare) > Math.floor(n * updateShare) ? 'update' : 'create';
}

/**
 * The products a run has created, with the version each is at. An update takes a product that has
 * no request in flight (so its If-Match version is current and it never gets a 409 from the run
 * itself) and gives it back with the new version; products are taken round-robin.
 */
export class ProductRotation {
  private readonly idle: string[] = [];
  private readonly versions = new Map<string, number>();

  get idleCount(): number {
    return this.idle.length;
  }

  get ids(): string[] {
    return [...this.versions.keys()];
  }

  /** The version each product is at after the run's successful writes. */
  get finalVersions(): ReadonlyMap<string, number> {
    return this.versions;
  }

  add(id: string, version: number): void {
    this.versions.set(id, version);
    this.idle.push(id);
  }

  take(): { id: string; version: number } | undefined {
    const id = this.idle.shift();
    return id === undefined ? undefined : { id, version: this.versions.get(id)! };
  }

  /** Back into rotation; `version` is the product's version now (unchanged when the update failed). */
  giveBack(id: string, version: number): void {
    this.versions.set(id, Math.max(version, this.versions.get(id) ?? 0));
    this.idle.push(id);
  }
}

export interface Percentiles {
  count: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

/** Nearest-rank percentiles (always observed values, so p50 ≤ p95 ≤ p99 ≤ max). */
export function percentiles(values: number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number): number | null =>
    sorted.length ? sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]! : null;
  return { count: sorted.length, p50: at(50), p95: at(95), p99: at(99), max: sorted.at(-1) ?? null };
}

/** One outbox event of the run, with when it was committed, published and applied (epoch ms). */
export interface EventTiming {
  id: string;
  status: string;
  createdMs: number;
  publishedMs: number | null;
  /** When the consumer's inbox recorded it (processed_event.processed_at); null while not applied. */
  appliedMs: number | null;
  /** processed_event rows for it in the group: 1 when applied exactly once. */
  applications: number;
}

export interface Outcome {
  outboxEvents: number;
  published: number;
  applied: number;
  /** Events with more than one processed_event row in the group (the inbox's key forbids it). */
  appliedMoreThanOnce: number;
  notApplied: number;
  byStatus: Record<string, number>;
  commitToPublishedMs: Percentiles;
  publishedToAppliedMs: Percentiles;
  commitToAppliedMs: Percentiles;
}

export function summarizeEvents(events: EventTiming[]): Outcome {
  const byStatus: Record<string, number> = {};
  for (const e of events) byStatus[e.status] = (byStatus[e.status] ?? 0) + 1;
  const applied = events.filter((e) => e.applications > 0 && e.appliedMs !== null);
  const published = events.filter((e) => e.publishedMs !== null);
  return {
    outboxEvents: events.length,
    published: published.length,
    applied: applied.length,
    appliedMoreThanOnce: events.filter((e) => e.applications > 1).length,
    notApplied: events.length - applied.length,
    byStatus,
    commitToPublishedMs: percentiles(published.map((e) => e.publishedMs! - e.createdMs)),
    publishedToAppliedMs: percentiles(
      applied.filter((e) => e.publishedMs !== null).map((e) => e.appliedMs! - e.publishedMs!),
    ),
    commitToAppliedMs: percentiles(applied.map((e) => e.appliedMs! - e.createdMs)),
  };
}

/**
 * Counts in = counts out: every successful write left exactly one outbox event, every one of them
 * was applied exactly once, and the read model shows every product at the version the run left it.
 */
export function countsMatch(input: {
  writesOk: number;
  outcome: Outcome;
  readModel: { products: number; current: number };
}): boolean {
  const { writesOk, outcome, readModel } = input;
  return (
    writesOk === outcome.outboxEvents &&
    outcome.applied === outcome.outboxEvents &&
    outcome.appliedMoreThanOnce === 0 &&
    readModel.current === readModel.products
  );
}
