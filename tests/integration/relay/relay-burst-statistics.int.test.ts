import { seedOutbox } from '../../harness/index.js';
import { relayFixture } from './relay-fixture.js';
import type { RelayFixture } from './relay-fixture.js';

// A burst into an outbox PostgreSQL has no statistics for (a new database, before autovacuum's next
// round): without them the planner guessed 0.5 % of rows PENDING and turned the claim and the mark
// into scans of every PENDING row, seconds each, which grew with the burst (measured with four
// relays and 50,000 rows: statement timeouts). The relay analyzes such an outbox at its first full
// batch, and leaves one that has statistics to autovacuum.
describe('a burst into an outbox without statistics', () => {
  let f: RelayFixture;
  beforeEach(async () => {
    f = await relayFixture();
    // Only the relay may analyze here: autovacuum would make the test depend on its timing.
    await f.sql.query('alter table outbox_event_unpublished set (autovacuum_enabled = off)');
  });
  afterEach(() => f?.close());

  const lastAnalyze = async (): Promise<Date | null> => {
    const { rows } = await f.sql.query<{ at: Date | null }>(
      `select last_analyze as at from pg_stat_user_tables where relid = 'outbox_event_unpublished'::regclass`,
    );
    return rows[0]!.at;
  };

  it('is analyzed by the relay at its first full batch, and drains', async () => {
    expect(await lastAnalyze()).toBeNull();
    await seedOutbox(f.sql, { topic: f.topic, products: 100, eventsPerProduct: 10 });
    const relay = await f.startRelay({ RELAY_BATCH_SIZE: '100' });
    await f.waitAllPublished(1000);
    expect(await lastAnalyze()).toBeInstanceOf(Date);
    expect(relay.output()).toContain('outbox had no statistics yet: analyzed it');
  });

  it('is left alone when it has statistics', async () => {
    await f.sql.query('analyze outbox_event_unpublished');
    const before = await lastAnalyze();
    expect(before).toBeInstanceOf(Date);
    await seedOutbox(f.sql, { topic: f.topic, products: 100, eventsPerProduct: 10 });
    const relay = await f.startRelay({ RELAY_BATCH_SIZE: '100' });
    await f.waitAllPublished(1000);
    expect(await lastAnalyze()).toEqual(before);
    expect(relay.output()).not.toContain('outbox had no statistics yet');
  });
});
