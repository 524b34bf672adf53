import { orderViolations } from './relay-fixture.js';

const check = (versions: number[]): string[] => orderViolations(new Map([['p', versions]]));

describe('orderViolations (the topic-order check the relay tests use)', () => {
  it('accepts first copies in order and replays that reach the newest version', () => {
    expect(check([1, 2, 3, 4, 5])).toEqual([]);
    expect(check([1, 2, 3, 4, 3, 4, 5])).toEqual([]); // acked, not marked, re-sent by the next owner
    expect(check([1, 2, 3, 3])).toEqual([]);
  });

  it('finds a later version before an earlier one, and stale copies after newer ones', () => {
    expect(check([1, 3, 2])[0]).toBe('p: first copy of v3 at #1 came before v2');
    expect(check([1, 2, 3, 4, 5, 3, 4])).toEqual(['p: a stale copy ends at v4 after v5 was published']);
    expect(check([1, 2, 3, 4, 5, 3, 6])).toHaveLength(1);
  });
});
