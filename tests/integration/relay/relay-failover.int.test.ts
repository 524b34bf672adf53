import { readTopic, seedOutbox, waitFor } from '../../harness/index.js';
import { relayFixture, versionsByProduct } from './relay-fixture.js';
import type { RelayFixture } from './relay-fixture.js';

const LEASE_MS = 4000;
const BATCH = 200;

describe('a relay killed with SIGKILL mid-run', () => {
  let f: RelayFixture;
  beforeAll(async () => {
    f = await relayFixture({ partitions: 3 });
  });
  afterAll(() => f.close());

  it('loses nothing: its shards are taken over within the lease + 5 s and duplicates stay within its in-flight batch', async () => {
    const products = await seedOutbox(f.sql, { topic: f.topic, products: 1000, eventsPerProduct: 10 });
    const total = products.length * 10;
    // Small batches and a slower pace so the kill lands while work remains.
    const env = {
      RELAY_LEASE_MS: String(LEASE_MS),
      RELAY_BATCH_SIZE: String(BATCH),
      RELAY_POLL_INTERVAL_MS: '200',
    };
    const [, victim] = await Promise.all([f.startRelay(env), f.startRelay(env), f.startRelay(env)]);
    await waitFor(async () => ((await f.statusCounts()).PUBLISHED ?? 0) >= 1500, {
      description: '1500 events published',
    });
    await waitFor(
      async () =>
        (await f.sql.query(`select 1 from relay_shard where owner = $1`, [victim!.id])).rowCount! > 0,
      { description: 'the victim to own shards' },
    );

    victim!.child.kill('SIGKILL');
    const killedAt = Date.now();
    await victim!.exited;
    await waitFor(
      async () =>
        (await f.sql.query(`select 1 from relay_shard where owner = $1`, [victim!.id])).rowCount === 0,
      { description: "the victim's shards to be taken over", timeoutMs: LEASE_MS + 15_000, intervalMs: 100 },
    );
    const takeoverMs = Date.now() - killedAt;
    await f.waitAllPublished(total);

    const published = Number(
      (await f.sql.query(`select count(*) from outbox_event where status = 'PUBLISHED'`)).rows[0].count,
    );
    // To the end of the log: a reader that stopped at `total` records would undercount duplicates.
    const records = await readTopic(f.brokers, f.topic, total, 120_000, { toEnd: true });
    const unique = new Set(records.map((r) => r.headers.ce_id)).size;
    const duplicates = records.length - unique;
    process.stdout.write(
      `relay SIGKILL: shards taken over after ${takeoverMs} ms (lease ${LEASE_MS} ms); ${duplicates} duplicate record(s) of ${total}\n`,
    );

    expect(published).toBe(total);
    expect(unique).toBe(total);
    expect(takeoverMs).toBeLessThanOrEqual(LEASE_MS + 5_000);
    expect(duplicates).toBeLessThanOrEqual(BATCH);
    // Duplicates are re-sends of whole events: per product, versions still never go backwards
    // except by repeating an already-seen one.
    for (const [, versions] of versionsByProduct(records)) {
      const firstSeen = versions.filter((v, i) => versions.indexOf(v) === i);
      expect(firstSeen).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    }
  });
});

describe('a relay stopped with SIGTERM', () => {
  let f: RelayFixture;
  beforeAll(async () => {
    f = await relayFixture({ partitions: 3 });
  });
  afterAll(() => f.close());

  it('exits 0 after releasing its shards, which its peer takes at its next heartbeat, not after the lease', async () => {
    const env = { RELAY_LEASE_MS: '30000', RELAY_HEARTBEAT_MS: '1000' };
    const [stays, leaves] = [await f.startRelay(env), await f.startRelay(env)];
    await waitFor(
      async () =>
        (await f.sql.query(`select 1 from relay_shard where owner = $1`, [leaves!.id])).rowCount! > 0,
      { description: 'the second relay to own shards', timeoutMs: 30_000 },
    );
    await seedOutbox(f.sql, { topic: f.topic, products: 200, eventsPerProduct: 5 });
    leaves!.child.kill('SIGTERM');
    const stoppedAt = Date.now();
    expect(await leaves!.exited).toBe(0);
    await waitFor(
      async () => {
        const { rows } = await f.sql.query<{ owner: string | null; n: number }>(
          'select owner, count(*)::int as n from relay_shard group by owner',
        );
        return rows.length === 1 && rows[0]!.owner === stays!.id && rows[0]!.n === 64;
      },
      { description: 'the remaining relay to own all 64 shards', timeoutMs: 10_000, intervalMs: 100 },
    );
    expect(Date.now() - stoppedAt).toBeLessThan(30_000); // well inside the 30 s lease
    await f.waitAllPublished(1000);
    expect(leaves!.output()).toContain('"msg":"shards released"');

    const metrics = await (await fetch(`http://127.0.0.1:${stays!.metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/^shopstream_relay_owned_shards 64$/m);
    expect(metrics).toMatch(/^shopstream_outbox_published_total\{event_type="product.updated"\} \d+/m);
    expect(metrics).toMatch(/^shopstream_outbox_commit_to_ack_seconds_count \d+/m);
  });
});
