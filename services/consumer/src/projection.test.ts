import type { PoolClient } from 'pg';
import { newestPerProduct, projectRows, sellerStatsDelta } from './projection.js';
import type { ProductRow, ProjectedRow } from './projection.js';

const A = '00000000-0000-7000-8000-00000000000a';
const B = '00000000-0000-7000-8000-00000000000b';
const live = (seller_id: string, stock: number): ProjectedRow => ({ seller_id, stock, deleted: false });
const tombstone = (seller_id: string, stock: number): ProjectedRow => ({ seller_id, stock, deleted: true });

describe('sellerStatsDelta', () => {
  it.each([
    ['a new live product counts once with its stock', undefined, live(A, 7), [[A, 1, 7]]],
    ['a stock change moves only the stock', live(A, 7), live(A, 3), [[A, 0, -4]]],
    ['a change that keeps the stock changes nothing', live(A, 7), live(A, 7), []],
    ['a delete removes the product and its stock', live(A, 7), tombstone(A, 7), [[A, -1, -7]]],
    ['a tombstone written first (delete before create) counts nothing', undefined, tombstone(A, 7), []],
    ['a newer tombstone over a tombstone counts nothing', tombstone(A, 7), tombstone(A, 2), []],
    ['a live version over a tombstone counts it again', tombstone(A, 7), live(A, 2), [[A, 1, 2]]],
    ['a row that disappears takes its counts with it', live(A, 7), undefined, [[A, -1, -7]]],
    [
      'a seller change moves the product between sellers, in seller order',
      live(B, 5),
      live(A, 6),
      [
        [A, 1, 6],
        [B, -1, -5],
      ],
    ],
  ] as const)('%s', (_name, before, after, expected) => {
    expect(sellerStatsDelta([before, after])).toEqual(
      expected.map(([sellerId, productCount, totalStock]) => ({ sellerId, productCount, totalStock })),
    );
  });
});

/** A stored or written `product_search` row of product `id`, as the statements return it. */
const stored = (id: string, version: number, row: ProjectedRow) => ({
  product_id: id,
  source_version: version,
  ...row,
});

/**
 * A transaction that answers the lock and write statements with the next scripted rows (what
 * PostgreSQL would have found and written) and records what it ran.
 */
function scriptedTx(
  script: { locked: ReturnType<typeof stored>[]; written: ReturnType<typeof stored>[] }[],
): {
  tx: PoolClient;
  statements: { sql: string; params: unknown[] }[];
} {
  const statements: { sql: string; params: unknown[] }[] = [];
  let step = 0;
  const tx = {
    query: async (sql: string, params: unknown[]) => {
      statements.push({ sql, params });
      if (sql.includes('insert into seller_stats')) return { rows: [], rowCount: 1 };
      const current = script[Math.floor(step++ / 2)];
      if (!current) throw new Error('unexpected extra statement');
      const rows = sql.includes('for update') ? current.locked : current.written;
      return { rows, rowCount: rows.length };
    },
  };
  return { tx: tx as unknown as PoolClient, statements };
}

const P = '00000000-0000-7000-8000-0000000000f1';
const Q = '00000000-0000-7000-8000-0000000000f2';
const row = (productId: string, version: number, stock: number, deleted = false): ProductRow => ({
  productId,
  sellerId: A,
  title: 'Lamp',
  description: null,
  price: '9.99',
  currency: 'USD',
  stock,
  version,
  deleted,
  eventTime: new Date('2026-12-01T00:00:00Z'),
});
const statsParams = (statements: { sql: string; params: unknown[] }[]): unknown[] =>
  statements.filter((s) => s.sql.includes('seller_stats')).map((s) => s.params);

describe('newestPerProduct', () => {
  it('keeps the highest version of each product, in product order', () => {
    expect(newestPerProduct([row(Q, 1, 1), row(P, 3, 3), row(Q, 4, 4), row(P, 2, 2)])).toEqual([
      row(P, 3, 3),
      row(Q, 4, 4),
    ]);
  });
});

describe('projectRows', () => {
  it('is stale and leaves seller_stats alone when the stored row is as new or newer', async () => {
    const { tx, statements } = scriptedTx([{ locked: [stored(P, 2, live(A, 4))], written: [] }]);
    await expect(projectRows(tx, [row(P, 2, 9)])).resolves.toEqual(['stale']);
    expect(statsParams(statements)).toEqual([]);
  });

  it('writes only the newest row of a product and judges each of its rows against the stored version', async () => {
    const { tx, statements } = scriptedTx([
      { locked: [stored(P, 2, live(A, 4))], written: [stored(P, 4, live(A, 9))] },
    ]);
    await expect(projectRows(tx, [row(P, 3, 7), row(P, 2, 5), row(P, 4, 9)])).resolves.toEqual([
      'applied',
      'stale',
      'applied',
    ]);
    const write = statements.find((s) => s.sql.includes('insert into product_search'))!;
    expect(write.params[0]).toEqual([P]);
    expect(write.params[7]).toEqual([4]);
    expect(write.params[10]).toEqual([P]); // only a product locked before may be updated
    expect(statsParams(statements)).toEqual([[[A], [0], [5]]]);
  });

  it('sums the seller_stats changes of several products into one statement', async () => {
    const { tx, statements } = scriptedTx([
      { locked: [stored(P, 1, live(A, 4))], written: [stored(P, 2, live(A, 1)), stored(Q, 1, live(A, 10))] },
    ]);
    await expect(projectRows(tx, [row(Q, 1, 10), row(P, 2, 1)])).resolves.toEqual(['applied', 'applied']);
    expect(statsParams(statements)).toEqual([[[A], [1], [7]]]);
  });

  it('locks again the product a concurrent transaction created after the lock statement', async () => {
    const { tx, statements } = scriptedTx([
      { locked: [], written: [] },
      { locked: [stored(P, 1, live(A, 4))], written: [stored(P, 2, live(A, 9))] },
    ]);
    await expect(projectRows(tx, [row(P, 2, 9)])).resolves.toEqual(['applied']);
    expect(statsParams(statements)).toEqual([[[A], [0], [5]]]);
  });

  it('gives up, writing no counts, when the row is neither written nor found three times', async () => {
    const nothing = { locked: [], written: [] };
    const { tx, statements } = scriptedTx([nothing, nothing, nothing]);
    await expect(projectRows(tx, [row(P, 2, 9)])).rejects.toThrow(/neither written nor found/);
    expect(statsParams(statements)).toEqual([]);
  });
});
