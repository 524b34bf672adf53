import { blockedByDeadSql } from '@shopstream/shared';
import { BACKLOG_SQL, PENDING_COUNT_SQL } from './outbox-backlog.js';

describe('the relay-scaling backlog queries', () => {
  it('count PENDING rows less the blocked ones, with the one shared definition of blocked', () => {
    expect(PENDING_COUNT_SQL).toContain(`pending.status = 'PENDING' and not ${blockedByDeadSql('pending')}`);
  });

  it('take the oldest pending age from the same rows, and the count from the same query KEDA polls', () => {
    expect(BACKLOG_SQL).toContain(`(${PENDING_COUNT_SQL})::bigint as pending`);
    const claimable = `pending.status = 'PENDING' and not ${blockedByDeadSql('pending')}`;
    expect(BACKLOG_SQL.split(claimable)).toHaveLength(3); // the count, and the oldest row
    expect(BACKLOG_SQL).toContain(`${claimable} order by pending.seq limit 1`);
  });

  it('read only the unpublished partition', () => {
    for (const sql of [PENDING_COUNT_SQL, BACKLOG_SQL]) {
      const tables = [...sql.matchAll(/from (outbox\w*)/g)].map((m) => m[1]);
      expect(new Set(tables)).toEqual(new Set(['outbox_event_unpublished']));
    }
  });
});
