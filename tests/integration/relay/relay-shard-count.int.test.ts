import { resolveShardCount } from '@shopstream/shared';
import { relayFixture } from './relay-fixture.js';
import type { RelayFixture } from './relay-fixture.js';
import { freePort, startService } from '../../harness/index.js';

// DESIGN §2: SHARD_COUNT has one source of truth, in the database; every relay refuses to run on a
// mismatch, so shards are never silently lost.
describe('SHARD_COUNT from the database', () => {
  let f: RelayFixture;
  beforeAll(async () => {
    f = await relayFixture();
  });
  afterAll(() => f?.close());

  it('records the first value, lets a relay without SHARD_COUNT adopt it, and refuses a relay with another', async () => {
    await f.startRelay(); // SHARD_COUNT unset: the database's first value is the default, 64
    expect(await resolveShardCount(f.sql, undefined)).toBe(64);
    const { rows } = await f.sql.query<{ n: number }>('select count(*)::int as n from relay_shard');
    expect(rows[0]!.n).toBe(64);

    const port = await freePort();
    const wrong = startService('services/relay/src/main.ts', {
      DATABASE_URL: f.db.url,
      KAFKA_BROKERS: f.brokers,
      SHARD_COUNT: '32',
      METRICS_PORT: String(port),
      METRICS_HOST: '127.0.0.1',
    });
    expect(await wrong.exited).toBe(1);
    expect(wrong.output()).toContain('SHARD_COUNT: is 32 but this database was set up with 64 shards');
    // It took nothing: every shard row is still the first relay's or free, none was added or taken.
    const owners = await f.sql.query<{ owner: string | null }>('select distinct owner from relay_shard');
    expect(owners.rows.map((r) => r.owner)).toEqual([f.relays[0]!.id]);
  });

  it('a relay configured with the stored value starts', async () => {
    const relay = await f.startRelay({ SHARD_COUNT: '64' });
    expect(relay.child.exitCode).toBeNull();
  });
});
