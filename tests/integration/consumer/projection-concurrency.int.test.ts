import pg from 'pg';
import { migrate, newId } from '@shopstream/shared';
import type { ProductEventType, ProductSnapshot } from '@shopstream/shared';
import type { ProductEvent } from '@shopstream/consumer';
import { createTestDatabase, productSnapshot, seededRandom, waitFor } from '../../harness/index.js';
import type { TestDatabase } from '../../harness/index.js';
import { handlerFor } from '../../../services/consumer/src/handler-registry.js';
import { applyEvents } from '../../../services/consumer/src/inbox.js';
import { projectRows } from '../../../services/consumer/src/projection.js';
import type { ProjectionOutcome } from '../../../services/consumer/src/projection.js';

// The consumer's handlers called directly inside real transactions (READ COMMITTED, as the inbox
// runs them), with the commit order controlled by the test, so that two events of one product
// meet in PostgreSQL the way two consumers (or two partitions after a partition increase) make them.

/** The event of `type` for `product` at `version`; stock and title change with the version. */
function event(
  type: ProductEventType,
  product: string,
  seller: string,
  version: number,
  stock: number,
): ProductEvent {
  const overrides: Partial<ProductSnapshot> = { seller_id: seller, stock, title: `Lamp v${version}` };
  if (type === 'product.deleted') overrides.deleted_at = new Date().toISOString();
  return {
    id: newId(),
    type,
    time: new Date(),
    aggregateVersion: version,
    data: productSnapshot(product, version, overrides),
  };
}

interface SearchRow {
  product_id: string;
  seller_id: string;
  title: string;
  stock: number;
  source_version: number;
  deleted: boolean;
  applied_at: Date;
}
interface StatsRow {
  seller_id: string;
  product_count: number;
  total_stock: string;
}

describe('the product projection under concurrent transactions', () => {
  let db: TestDatabase;
  let pool: pg.Pool;

  beforeAll(async () => {
    db = await createTestDatabase('projection');
    await migrate(db.url);
    pool = new pg.Pool({ connectionString: db.url, max: 8 });
    pool.on('error', () => undefined); // idle clients ended by DROP DATABASE … WITH (FORCE)
  });
  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  const apply = async (tx: pg.PoolClient, e: ProductEvent): Promise<ProjectionOutcome> =>
    (await projectRows(tx, [handlerFor(e.type).toRow(e)]))[0]!;

  /** Applies `e` in a transaction of its own, committed. */
  async function applyCommitted(e: ProductEvent): Promise<ProjectionOutcome> {
    const tx = await pool.connect();
    try {
      await tx.query('begin');
      const outcome = await apply(tx, e);
      await tx.query('commit');
      return outcome;
    } catch (err) {
      await tx.query('rollback');
      throw err;
    } finally {
      tx.release();
    }
  }

  /**
   * Applies `first` in transaction A and, before A commits, `second` in transaction B, which must
   * then wait for A's row lock; commits A, lets B finish, commits B.
   * @returns B's outcome.
   */
  async function race(first: ProductEvent, second: ProductEvent): Promise<ProjectionOutcome> {
    const a = await pool.connect();
    const b = await pool.connect();
    try {
      const { rows } = await b.query<{ pid: number }>('select pg_backend_pid() as pid');
      await a.query('begin');
      await b.query('begin');
      expect(await apply(a, first)).toBe('applied');
      const pending = apply(b, second);
      pending.catch(() => undefined); // awaited below; a rejection while A is open must not go unhandled
      await waitFor(
        async () =>
          (
            await pool.query<{ waiting: boolean }>(
              `select wait_event_type = 'Lock' as waiting from pg_stat_activity where pid = $1`,
              [rows[0]!.pid],
            )
          ).rows[0]?.waiting,
        { description: 'transaction B to wait for the row lock of transaction A' },
      );
      await a.query('commit');
      const outcome = await pending;
      await b.query('commit');
      return outcome;
    } catch (err) {
      await a.query('rollback').catch(() => undefined);
      await b.query('rollback').catch(() => undefined);
      throw err;
    } finally {
      a.release();
      b.release();
    }
  }

  async function searchRow(product: string): Promise<SearchRow | undefined> {
    const { rows } = await pool.query<SearchRow>(
      `select product_id, seller_id, title, stock, source_version, deleted, applied_at
         from product_search where product_id = $1`,
      [product],
    );
    return rows[0];
  }

  async function stats(seller: string): Promise<{ product_count: number; total_stock: number }> {
    const { rows } = await pool.query<StatsRow>('select * from seller_stats where seller_id = $1', [seller]);
    return { product_count: rows[0]?.product_count ?? 0, total_stock: Number(rows[0]?.total_stock ?? 0) };
  }

  describe('two events of one new product in two concurrent transactions', () => {
    it('keeps version 2 and counts the product once when version 2 commits first and version 1 waits', async () => {
      const [product, seller] = [newId(), newId()];
      const outcome = await race(
        event('product.updated', product, seller, 2, 20),
        event('product.created', product, seller, 1, 10),
      );
      expect(await searchRow(product)).toMatchObject({ source_version: 2, stock: 20, deleted: false });
      expect(await stats(seller)).toEqual({ product_count: 1, total_stock: 20 });
      expect(outcome).toBe('stale');
    });

    it('ends at version 2 and counts the product once when version 1 commits first and version 2 waits', async () => {
      const [product, seller] = [newId(), newId()];
      const outcome = await race(
        event('product.created', product, seller, 1, 10),
        event('product.updated', product, seller, 2, 20),
      );
      expect(await searchRow(product)).toMatchObject({ source_version: 2, stock: 20, deleted: false });
      expect(await stats(seller)).toEqual({ product_count: 1, total_stock: 20 });
      expect(outcome).toBe('applied');
    });

    it('keeps the tombstone when the delete commits first and the create waits', async () => {
      const [product, seller] = [newId(), newId()];
      const outcome = await race(
        event('product.deleted', product, seller, 2, 10),
        event('product.created', product, seller, 1, 10),
      );
      expect(await searchRow(product)).toMatchObject({ source_version: 2, deleted: true });
      expect(await stats(seller)).toEqual({ product_count: 0, total_stock: 0 });
      expect(outcome).toBe('stale');
    });

    it('does not bring an existing product back to an older version when the newer update commits first', async () => {
      const [product, seller] = [newId(), newId()];
      await applyCommitted(event('product.created', product, seller, 1, 10));
      const outcome = await race(
        event('product.updated', product, seller, 3, 30),
        event('product.updated', product, seller, 2, 20),
      );
      expect(await searchRow(product)).toMatchObject({ source_version: 3, stock: 30 });
      expect(await stats(seller)).toEqual({ product_count: 1, total_stock: 30 });
      expect(outcome).toBe('stale');
    });
  });

  describe('events out of order', () => {
    it('changes neither table for an older version after a newer one, nor for a duplicate', async () => {
      const [product, seller] = [newId(), newId()];
      expect(await applyCommitted(event('product.created', product, seller, 1, 10))).toBe('applied');
      const v2 = event('product.updated', product, seller, 2, 20);
      expect(await applyCommitted(v2)).toBe('applied');
      const before = { search: await searchRow(product), stats: await stats(seller) };

      expect(await applyCommitted(event('product.created', product, seller, 1, 10))).toBe('stale');
      expect(await applyCommitted({ ...v2, id: newId() })).toBe('stale');

      expect({ search: await searchRow(product), stats: await stats(seller) }).toEqual(before);
      expect(before.stats).toEqual({ product_count: 1, total_stock: 20 });
    });

    it('keeps an update that arrives before its create, and counts the product once', async () => {
      const [product, seller] = [newId(), newId()];
      expect(await applyCommitted(event('product.updated', product, seller, 2, 20))).toBe('applied');
      expect(await applyCommitted(event('product.created', product, seller, 1, 10))).toBe('stale');
      expect(await searchRow(product)).toMatchObject({ source_version: 2, stock: 20, deleted: false });
      expect(await stats(seller)).toEqual({ product_count: 1, total_stock: 20 });
    });

    it('keeps a product deleted when an older update arrives after the delete', async () => {
      const [product, seller] = [newId(), newId()];
      await applyCommitted(event('product.created', product, seller, 1, 10));
      expect(await applyCommitted(event('product.deleted', product, seller, 3, 20))).toBe('applied');
      const before = { search: await searchRow(product), stats: await stats(seller) };

      expect(await applyCommitted(event('product.updated', product, seller, 2, 20))).toBe('stale');

      expect({ search: await searchRow(product), stats: await stats(seller) }).toEqual(before);
      expect(before.search).toMatchObject({ source_version: 3, deleted: true });
      expect(before.stats).toEqual({ product_count: 0, total_stock: 0 });
    });

    it('keeps a tombstone applied before the create and updates it never saw', async () => {
      const [product, seller] = [newId(), newId()];
      expect(await applyCommitted(event('product.deleted', product, seller, 3, 20))).toBe('applied');
      expect(await applyCommitted(event('product.created', product, seller, 1, 10))).toBe('stale');
      expect(await applyCommitted(event('product.updated', product, seller, 2, 20))).toBe('stale');
      expect(await searchRow(product)).toMatchObject({ source_version: 3, deleted: true });
      expect(await stats(seller)).toEqual({ product_count: 0, total_stock: 0 });
    });
  });

  it('moves a product between sellers when a newer version names another seller', async () => {
    // The API never changes a product's seller; the projection still keeps both sellers' counts right.
    const [product, before, after] = [newId(), newId(), newId()];
    await applyCommitted(event('product.created', product, before, 1, 10));
    expect(await applyCommitted(event('product.updated', product, after, 2, 15))).toBe('applied');
    expect(await stats(before)).toEqual({ product_count: 0, total_stock: 0 });
    expect(await stats(after)).toEqual({ product_count: 1, total_stock: 15 });
  });

  it.each([
    ['one event per transaction', 1],
    ['chunks of 25 events per inbox transaction (applyEvents)', 25],
  ])(
    'ends at every product’s last version with exact seller totals after 4 workers apply 200 products × 5 versions, duplicates included, in shuffled order: %s',
    async (_mode, chunk) => {
      const seed = 0x5eed14;
      const random = seededRandom(seed);
      const sellers = Array.from({ length: 7 }, () => newId());
      const finals = new Map<string, { seller: string; stock: number; deleted: boolean }>();
      const groups: ProductEvent[][] = [];
      for (let i = 0; i < 200; i++) {
        const [product, seller] = [newId(), sellers[i % sellers.length]!];
        const deletedAtTheEnd = random() < 0.3;
        const events: ProductEvent[] = [];
        let stock = 0;
        for (let version = 1; version <= 5; version++) {
          if (version < 5 || !deletedAtTheEnd) stock = Math.floor(random() * 100);
          const type: ProductEventType =
            version === 1
              ? 'product.created'
              : version === 5 && deletedAtTheEnd
                ? 'product.deleted'
                : 'product.updated';
          events.push(event(type, product, seller, version, stock));
        }
        // At-least-once delivery: some events arrive twice (as a new copy, so no inbox could catch it).
        for (const e of events) if (random() < 0.1) events.push({ ...e, id: newId() });
        finals.set(product, { seller, stock, deleted: deletedAtTheEnd });
        groups.push(events);
      }
      // Shuffle the products, then the events of every two neighbouring products together, so that the
      // four workers mostly hold events of the same product at once.
      shuffle(groups, random);
      const queue: ProductEvent[] = [];
      for (let i = 0; i < groups.length; i += 2)
        queue.push(...shuffle(groups.slice(i, i + 2).flat(), random));

      let next = 0;
      const group = `projection-${newId()}`;
      const worker = async (): Promise<void> => {
        if (chunk > 1) {
          // The consumer's own path: inbox and projection in one transaction per chunk.
          for (let start = next; start < queue.length; start = next) {
            next += chunk;
            await applyEvents(pool, group, queue.slice(start, start + chunk));
          }
          return;
        }
        const tx = await pool.connect();
        try {
          for (let e = queue[next++]; e; e = queue[next++]) {
            await tx.query('begin');
            await apply(tx, e);
            await tx.query('commit');
          }
        } catch (err) {
          await tx.query('rollback').catch(() => undefined);
          throw err;
        } finally {
          tx.release();
        }
      };
      await Promise.all([worker(), worker(), worker(), worker()]);
      expect(next).toBeGreaterThanOrEqual(queue.length);

      const { rows } = await pool.query<SearchRow>(
        `select product_id, seller_id, title, stock, source_version, deleted, applied_at
         from product_search where product_id = any($1::uuid[])`,
        [[...finals.keys()]],
      );
      const actual = new Map(rows.map((r) => [r.product_id, r]));
      const wrongProducts = [...finals].filter(([product, want]) => {
        const got = actual.get(product);
        return (
          !got ||
          got.source_version !== 5 ||
          got.title !== 'Lamp v5' ||
          got.stock !== want.stock ||
          got.deleted !== want.deleted
        );
      }).length;
      // seller_stats must equal the sums over the final rows (and those, the sums the generator expects).
      const totals = async (seller: string) => {
        const fromRows = rows.filter((r) => r.seller_id === seller && !r.deleted);
        const intended = [...finals.values()].filter((f) => f.seller === seller && !f.deleted);
        return {
          seller,
          stats: await stats(seller),
          rows: {
            product_count: fromRows.length,
            total_stock: fromRows.reduce((sum, r) => sum + r.stock, 0),
          },
          intended: {
            product_count: intended.length,
            total_stock: intended.reduce((sum, f) => sum + f.stock, 0),
          },
        };
      };
      const sellerTotals = await Promise.all(sellers.map(totals));
      expect({ seed, wrongProducts, sellerTotals }).toEqual({
        seed,
        wrongProducts: 0,
        sellerTotals: sellerTotals.map((t) => ({
          seller: t.seller,
          stats: t.intended,
          rows: t.intended,
          intended: t.intended,
        })),
      });
    },
  );
});

/** Fisher–Yates in place; returns the array. */
function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
