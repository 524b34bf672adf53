import { BACKLOG_SQL, PENDING_COUNT_SQL } from './outbox-backlog.js';

describe('the relay-scaling backlog queries', () => {
  it('classify rows once: KEDA polls the same claimable count the operator reads', () => {
    const cte = PENDING_COUNT_SQL.slice(0, PENDING_COUNT_SQL.indexOf('select count(*) from classified'));
    expect(cte).toMatch(/^with holds as/);
    expect(BACKLOG_SQL.startsWith(cte)).toBe(true);
    expect(PENDING_COUNT_SQL).toMatch(/select count\(\*\) from classified where state = 'claimable'$/);
    expect(BACKLOG_SQL).toContain(`count(*) filter (where state = 'claimable')::bigint as pending`);
  });

  it('read only the unpublished partition (and the shard count)', () => {
    for (const sql of [PENDING_COUNT_SQL, BACKLOG_SQL]) {
      const tables = [...sql.matchAll(/(?:from|join) (outbox\w*|relay\w*)/g)].map((m) => m[1]);
      expect(new Set(tables)).toEqual(
        new Set(
          sql === BACKLOG_SQL ? ['outbox_event_unpublished', 'relay_config'] : ['outbox_event_unpublished'],
        ),
      );
    }
  });
});
