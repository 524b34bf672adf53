import { Kafka, logLevel } from 'kafkajs';
import type { Consumer } from 'kafkajs';
import { buildProductEvent, newId } from '@shopstream/shared';
import {
  freePort,
  insertEvents,
  productSnapshot,
  randomGroup,
  seedOutbox,
  waitFor,
} from '../../harness/index.js';
import type pg from 'pg';
import { relayFixture } from '../relay/relay-fixture.js';
import type { RelayFixture } from '../relay/relay-fixture.js';
import { cliEnv, parseJson, runCli } from './cli-fixture.js';

interface StatusJson {
  outbox: {
    counts: Record<string, number>;
    pending: number;
    blocked: number;
    oldestPendingAgeSeconds: number | null;
    dead: { id: string; product: string; type: string; attempts: number; lastError: string | null }[];
    shardOwners: { owner: string; shards: number; leaseExpiresInSeconds: number }[];
    shardCount: number;
    unownedShards: number;
    relaysAlive: { owner: string }[];
  };
  consumerGroup: { group: string; state: string; members: number; lag: number | null; topicExists: boolean };
}

describe('shopstream status', () => {
  let f: RelayFixture;
  let consumer: Consumer;
  const group = randomGroup('status');
  let env: Record<string, string>;

  beforeAll(async () => {
    f = await relayFixture({ partitions: 3 });
    env = cliEnv({ databaseUrl: f.db.url, brokers: f.brokers, group, topic: f.topic });
    await seedOutbox(f.sql, { topic: f.topic, products: 10, eventsPerProduct: 2 });
    await f.startRelay();
    await f.startRelay();
    await f.waitAllPublished(20);

    // Rows the running relays leave alone, so the numbers hold still while they are compared:
    // DEAD and SKIPPED rows, and PENDING rows whose next attempt is an hour away.
    const events = Array.from({ length: 6 }, () =>
      buildProductEvent('product.created', productSnapshot(newId(), 1), { shardCount: 64, topic: f.topic }),
    );
    const client = await f.sql.connect();
    try {
      await client.query('begin');
      await insertEvents(client as unknown as pg.Pool, events);
      const ids = events.map((e) => e.id);
      await client.query(
        `update outbox_event set status = 'DEAD', attempts = 10, last_error = 'broker refused: test' where id = any($1::uuid[])`,
        [ids.slice(0, 2)],
      );
      await client.query(`update outbox_event set status = 'SKIPPED' where id = $1`, [ids[2]]);
      await client.query(
        `update outbox_event set next_attempt_at = now() + interval '1 hour', created_at = now() - interval '90 seconds'
         where id = any($1::uuid[])`,
        [ids.slice(3)],
      );
      await client.query('commit');
    } finally {
      client.release();
    }

    const kafka = new Kafka({ clientId: 'status-member', brokers: [f.brokers], logLevel: logLevel.NOTHING });
    consumer = kafka.consumer({ groupId: group });
    await consumer.connect();
    await consumer.subscribe({ topic: f.topic, fromBeginning: true });
    await consumer.run({ eachMessage: async () => undefined });
    const admin = kafka.admin();
    await admin.connect();
    await waitFor(async () => (await admin.describeGroups([group])).groups[0]?.state === 'Stable', {
      description: 'the test consumer to join its group',
    });
    await admin.disconnect();
    // Two live relays share the 64 shards evenly once the rebalance settled.
    await waitFor(
      async () => {
        const { rows } = await f.sql.query<{ n: number }>(
          'select count(*)::int as n from relay_shard where owner is not null group by owner',
        );
        return rows.length === 2 && rows.every((r) => r.n === 32);
      },
      { description: 'the two relays to hold 32 shards each', timeoutMs: 60_000 },
    );
  });

  afterAll(async () => {
    await consumer?.disconnect();
    await f?.close();
  });

  it('reports the counts, ages, DEAD rows and shard owners the database holds', async () => {
    const result = await runCli(['status', '--json'], env);
    expect(result.code).toBe(0);
    const status = parseJson<StatusJson>(result);

    const counts = await f.statusCounts();
    expect(counts).toEqual({ PUBLISHED: 20, DEAD: 2, SKIPPED: 1, PENDING: 3 });
    expect(status.outbox.counts).toEqual(counts);
    // The DEAD rows are their products' only events: nothing waits behind them.
    expect(status.outbox).toMatchObject({ pending: 3, blocked: 0 });

    const { rows: age } = await f.sql.query<{ age: number }>(
      `select extract(epoch from now() - min(created_at))::float8 as age from outbox_event where status = 'PENDING'`,
    );
    expect(status.outbox.oldestPendingAgeSeconds).toBeGreaterThanOrEqual(90);
    expect(Math.abs(status.outbox.oldestPendingAgeSeconds! - age[0]!.age)).toBeLessThan(10);

    const { rows: dead } = await f.sql.query<{ id: string; aggregate_id: string }>(
      `select id, aggregate_id from outbox_event where status = 'DEAD' order by seq`,
    );
    expect(status.outbox.dead.map((d) => [d.id, d.product])).toEqual(dead.map((d) => [d.id, d.aggregate_id]));
    expect(status.outbox.dead[0]).toMatchObject({
      type: 'product.created',
      attempts: 10,
      lastError: 'broker refused: test',
    });

    const { rows: shards } = await f.sql.query<{ owner: string; n: number }>(
      `select owner, count(*)::int as n from relay_shard where owner is not null group by owner order by owner`,
    );
    expect(status.outbox.shardOwners.map((s) => [s.owner, s.shards])).toEqual(
      shards.map((s) => [s.owner, s.n]),
    );
    expect(shards.map((s) => s.owner)).toEqual(['relay-1', 'relay-2']);
    for (const s of status.outbox.shardOwners) {
      // RELAY_LEASE_MS is 4000 and renewed every second.
      expect(s.leaseExpiresInSeconds).toBeGreaterThan(0);
      expect(s.leaseExpiresInSeconds).toBeLessThanOrEqual(4.1);
    }
    expect(status.outbox.shardCount).toBe(64);
    expect(status.outbox.unownedShards).toBe(0);
    expect(status.outbox.relaysAlive.map((r) => r.owner)).toEqual(['relay-1', 'relay-2']);

    expect(status.consumerGroup).toMatchObject({ group, state: 'Stable', members: 1, topicExists: true });
    expect(typeof status.consumerGroup.lag).toBe('number');
  });

  it('prints the same in plain text, with the DEAD rows and what to do about them', async () => {
    const result = await runCli(['status'], env);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('outbox: 3 pending, 0 blocked, 20 published, 2 dead, 1 skipped');
    expect(result.stdout).toMatch(/relays: 2 alive \(relay-1, relay-2\)/);
    expect(result.stdout).toMatch(/relay-1: 32 shard\(s\), lease ends in/);
    expect(result.stdout).toContain(`consumer group ${group} on ${f.topic}: Stable, 1 member(s)`);
    expect(result.stdout).toMatch(/2 DEAD event\(s\) block .*shopstream outbox list --status dead/);
  });

  it('sees a stopped relay go: its lease ends and its shards move to the other', async () => {
    const stopped = f.relays[1]!;
    stopped.child.kill('SIGTERM');
    await stopped.exited;
    const status = await waitFor(
      async () => {
        const s = parseJson<StatusJson>(await runCli(['status', '--json'], env));
        return s.outbox.relaysAlive.length === 1 && s.outbox.shardOwners.length === 1 ? s : undefined;
      },
      { description: 'status to show one relay holding every shard', timeoutMs: 60_000, intervalMs: 1000 },
    );
    expect(status.outbox.relaysAlive.map((r) => r.owner)).toEqual(['relay-1']);
    expect(status.outbox.shardOwners).toEqual([expect.objectContaining({ owner: 'relay-1', shards: 64 })]);
  });

  it('says which of PostgreSQL and Kafka it cannot reach, with exit 1 and no stack', async () => {
    const [pgPort, kafkaPort] = [await freePort(), await freePort()];
    const result = await runCli(['status'], {
      DATABASE_URL: `postgres://postgres@127.0.0.1:${pgPort}/nowhere`,
      KAFKA_BROKERS: `127.0.0.1:${kafkaPort}`,
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('outbox: unavailable (cannot reach PostgreSQL at 127.0.0.1');
    expect(result.stderr).toMatch(/cannot reach PostgreSQL at 127\.0\.0\.1:\d+\/nowhere/);
    expect(result.stderr).toMatch(/cannot reach Kafka at 127\.0\.0\.1:\d+/);
    expect(result.stderr).not.toMatch(/unexpected failure|\n\s+at /);

    // Only Kafka down: the database half is still reported.
    const half = await runCli(['status', '--json'], { ...env, KAFKA_BROKERS: `127.0.0.1:${kafkaPort}` });
    expect(half.code).toBe(1);
    const partial = parseJson<{
      outbox: { counts: Record<string, number> };
      consumerGroup: { error: string };
    }>(half);
    expect(partial.outbox.counts.PUBLISHED).toBe(20);
    expect(partial.consumerGroup.error).toMatch(/cannot reach Kafka/);
  });
});
