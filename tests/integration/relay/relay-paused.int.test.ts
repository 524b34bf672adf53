import { buildProductEvent, newId, shardOf } from '@shopstream/shared';
import { insertEvents, productSnapshot, waitFor } from '../../harness/index.js';
import { orderViolations, readWholeTopic, relayFixture, versionsByProduct } from './relay-fixture.js';
import type { RelayFixture } from './relay-fixture.js';

// DESIGN §9, row "relay SIGKILLed / partitioned / paused (GC, CPU)": the lease lapses, another relay
// takes over with epoch + 1, the stale one self-fences before its lease ends; never duplicate storms,
// never stale copies after newer events. A pause is the hard case: the paused relay wakes up with
// claimed rows (and maybe acks) in hand, believing for a moment that it still owns its shards.
describe('relay paused (SIGSTOP) past its lease, then resumed', () => {
  let f: RelayFixture;
  beforeAll(async () => {
    f = await relayFixture({ partitions: 3 });
  });
  afterAll(() => f?.close());

  it('sends nothing after its lease lapsed: no copy on the topic after a newer version of its product', async () => {
    const products = Array.from({ length: 40 }, () => newId());
    const versions = new Map(products.map((id) => [id, 0]));
    let writing = true;
    let rounds = 0;
    // Sellers keep changing the same products throughout, so every product has events before,
    // during and after the pause (bounded: stops when the test says, at most 2000 rounds).
    const writer = (async () => {
      while (writing && rounds < 2000) {
        rounds++;
        const events = products.slice(0, 10 + (rounds % 30)).map((id) => {
          const version = versions.get(id)! + 1;
          versions.set(id, version);
          return buildProductEvent(
            version === 1 ? 'product.created' : 'product.updated',
            productSnapshot(id, version),
            { shardCount: 64, topic: f.topic },
          );
        });
        await insertEvents(f.sql, events);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();

    const [paused, peer] = [await f.startRelay(), await f.startRelay()];
    const ownedBy = async (owner: string): Promise<Map<number, string>> => {
      const { rows } = await f.sql.query<{ shard: number; epoch: string }>(
        `select shard, epoch from relay_shard where owner = $1`,
        [owner],
      );
      return new Map(rows.map((r) => [r.shard, r.epoch]));
    };
    await waitFor(
      async () => (await ownedBy(paused.id)).size === 32 && (await ownedBy(peer.id)).size === 32,
      {
        description: 'both relays to hold their 32 shards',
      },
    );
    await waitFor(async () => ((await f.statusCounts()).PUBLISHED ?? 0) > 500, {
      description: 'publishing to be under way',
    });

    const held = await ownedBy(paused.id);
    const stoppedAt = Date.now();
    paused.child.kill('SIGSTOP');
    // Lease 4 s: the peer takes every shard of the paused relay over, at epoch + 1.
    await waitFor(
      async () => {
        const now = await ownedBy(peer.id);
        return [...held].every(([shard, epoch]) => BigInt(now.get(shard) ?? '0') === BigInt(epoch) + 1n);
      },
      { description: `${peer.id} to take over the paused relay's shards`, timeoutMs: 30_000 },
    );
    // …and publishes newer versions of the paused relay's products while it is still frozen.
    const publishedBeforeResume = (await f.statusCounts()).PUBLISHED ?? 0;
    await waitFor(async () => ((await f.statusCounts()).PUBLISHED ?? 0) > publishedBeforeResume + 200, {
      description: "the peer to publish the paused relay's shards",
    });
    const resumedAt = Date.now();
    paused.child.kill('SIGCONT');

    // Both run on; the resumed one gets its fair share back through the normal hand-over.
    await waitFor(async () => (await ownedBy(paused.id)).size > 0, {
      description: 'the resumed relay to hold shards again',
      timeoutMs: 30_000,
    });
    writing = false;
    await writer;
    const total = [...versions.values()].reduce((n, v) => n + v, 0);
    await f.waitAllPublished(total);

    const records = await readWholeTopic(f.brokers, f.topic);
    const byProduct = versionsByProduct(records);
    expect(orderViolations(byProduct)).toEqual([]);
    for (const [id, v] of versions) expect(Math.max(...(byProduct.get(id) ?? [0]))).toBe(v);
    expect(new Set(records.map((r) => r.headers.ce_id)).size).toBe(total);

    // Who sent what: the paused relay's producer is the one that wrote its shards' records before
    // the pause (only it held them then). A copy it sent after resuming, of an event another producer
    // also sent, is a send from a relay whose lease had lapsed: the peer owned that row by then.
    const pausedProducers = new Set(
      records.filter((r) => r.timestamp < stoppedAt && held.has(shardOf(r.key, 64))).map((r) => r.producerId),
    );
    expect(pausedProducers.size).toBeGreaterThan(0);
    const producersOf = new Map<string, Set<string>>();
    for (const r of records) {
      const set = producersOf.get(r.headers.ce_id!) ?? new Set();
      set.add(r.producerId);
      producersOf.set(r.headers.ce_id!, set);
    }
    const staleSends = records.filter(
      (r) =>
        r.timestamp >= resumedAt &&
        pausedProducers.has(r.producerId) &&
        [...producersOf.get(r.headers.ce_id!)!].some((p) => !pausedProducers.has(p)),
    );
    expect(staleSends.map((r) => `${r.headers.ce_id} v${r.headers.ce_aggregateversion}`)).toEqual([]);
    const log = paused.output();
    expect(log).not.toContain('"level":50'); // no error-level line: nothing DEAD, no crash
    process.stdout.write(
      `relay pause: ${total} events, ${records.length - total} duplicates; resumed relay said: ` +
        `${
          ['self-fenc', 'not claiming or sending', 'could not be marked', 'shard lost', 'dropped']
            .filter((s) => log.includes(s))
            .join(', ') || '(nothing about fencing)'
        }\n`,
    );
  });
});
