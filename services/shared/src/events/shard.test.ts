import { newId } from '../ids.js';
import { shardOf } from './shard.js';

describe('shardOf', () => {
  it('is stable: the same id always maps to the same shard (pinned values)', () => {
    // Pinned (computed independently with a Python FNV-1a) so that a change of the hash, which would
    // split the pending events of one product between shards, fails here.
    expect([
      shardOf('0190f5d2-7c3a-7b1e-9a55-0c2f4e6d8a11', 64),
      shardOf('3fa85f64-5717-4562-b3fc-2c963f66afa6', 64),
      shardOf('ffffffff-ffff-ffff-ffff-ffffffffffff', 64),
      shardOf('00000000-0000-0000-0000-000000000000', 64),
    ]).toEqual([4, 46, 6, 59]);
    expect(shardOf('00000000000000000000000000000000', 64)).toBe(59);
  });

  it('ignores case and spreads ids over all shards', () => {
    const id = '3FA85F64-5717-4562-B3FC-2C963F66AFA6';
    expect(shardOf(id)).toBe(shardOf(id.toLowerCase()));
    // UUID v7 ids made in a burst share their time prefix: the realistic worst case.
    const counts = new Array<number>(64).fill(0);
    for (let i = 0; i < 6400; i++) counts[shardOf(newId(), 64)]!++;
    expect(Math.min(...counts)).toBeGreaterThan(50);
    expect(Math.max(...counts)).toBeLessThan(150);
  });

  it('rejects what is not a uuid or a usable shard count', () => {
    expect(() => shardOf('not-a-uuid')).toThrow(/not a uuid/);
    expect(() => shardOf('3fa85f64-5717-4562-b3fc-2c963f66afa6', 0)).toThrow(/shard count/);
  });
});
