import type { PoolClient } from 'pg';
import type { ProductEvent } from './event-envelope.js';
import { projectProduct, sellerStatsDelta } from './projection.js';
import type { ProjectedRow } from './projection.js';

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
    expect(sellerStatsDelta(before, after)).toEqual(
      expected.map(([sellerId, productCount, totalStock]) => ({ sellerId, productCount, totalStock })),
    );
  });
});

/** A transaction that answers each query with the next scripted result and records what it ran. */
function scriptedTx(results: { previous: ProjectedRow | null; written: ProjectedRow | null }[]): {
  tx: PoolClient;
  statements: { sql: string; params: unknown[] }[];
} {
  const statements: { sql: string; params: unknown[] }[] = [];
  let upserts = 0;
  const tx = {
    query: async (sql: string, params: unknown[]) => {
      statements.push({ sql, params });
      if (sql.includes('insert into seller_stats')) return { rows: [], rowCount: 1 };
      const result = results[upserts++];
      if (!result) throw new Error('unexpected extra upsert');
      return { rows: [result], rowCount: 1 };
    },
  };
  return { tx: tx as unknown as PoolClient, statements };
}

const event = (version: number, stock: number): ProductEvent => ({
  id: '00000000-0000-7000-8000-0000000000e1',
  type: version === 1 ? 'product.created' : 'product.updated',
  time: new Date('2026-12-01T00:00:00Z'),
  aggregateVersion: version,
  data: {
    id: '00000000-0000-7000-8000-0000000000f1',
    seller_id: A,
    title: 'Lamp',
    description: null,
    price: '9.99',
    currency: 'USD',
    stock,
    version,
    created_at: '2026-12-01T00:00:00Z',
    updated_at: '2026-12-01T00:00:00Z',
    deleted_at: null,
  },
});

describe('projectProduct', () => {
  it('is stale and leaves seller_stats alone when the stored row is as new or newer', async () => {
    const { tx, statements } = scriptedTx([{ previous: live(A, 4), written: null }]);
    await expect(projectProduct(tx, event(2, 9), true)).resolves.toBe('stale');
    expect(statements.filter((s) => s.sql.includes('seller_stats'))).toEqual([]);
  });

  it('changes seller_stats by the difference between the replaced and the written row', async () => {
    const { tx, statements } = scriptedTx([{ previous: live(A, 4), written: live(A, 9) }]);
    await expect(projectProduct(tx, event(2, 9), true)).resolves.toBe('applied');
    expect(statements.filter((s) => s.sql.includes('seller_stats')).map((s) => s.params)).toEqual([
      [[A], [0], [5]],
    ]);
  });

  it('looks again when a concurrent transaction created the row after its snapshot', async () => {
    const { tx, statements } = scriptedTx([
      { previous: null, written: null },
      { previous: live(A, 4), written: live(A, 9) },
    ]);
    await expect(projectProduct(tx, event(2, 9), true)).resolves.toBe('applied');
    expect(statements.filter((s) => s.sql.includes('seller_stats')).map((s) => s.params)).toEqual([
      [[A], [0], [5]],
    ]);
  });

  it('gives up, writing no counts, when the row is neither written nor found three times', async () => {
    const nothing = { previous: null, written: null };
    const { tx, statements } = scriptedTx([nothing, nothing, nothing]);
    await expect(projectProduct(tx, event(2, 9), true)).rejects.toThrow(/neither written nor found/);
    expect(statements.filter((s) => s.sql.includes('seller_stats'))).toEqual([]);
  });
});
