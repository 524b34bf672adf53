import { Kafka, logLevel } from 'kafkajs';
import { buildProductEvent, newId } from '@shopstream/shared';
import type { ProductSnapshot } from '@shopstream/shared';
import { insertEvents, productSnapshot, readTopic, seedOutbox, waitFor } from '../../harness/index.js';
import { relayFixture, relayMetric, versionsByProduct } from './relay-fixture.js';
import type { RelayFixture } from './relay-fixture.js';
import { runCli } from '../cli/cli-fixture.js';

const snapshot = (id: string, version: number, description: string): ProductSnapshot =>
  productSnapshot(id, version, { title: 'Poster', description });

describe('a poison event (larger than the topic accepts)', () => {
  let f: RelayFixture;
  beforeAll(async () => {
    f = await relayFixture({ partitions: 3, topicConfig: { 'max.message.bytes': '100000' } });
  });
  afterAll(() => f.close());

  it('goes DEAD after MAX_ATTEMPTS while other products flow and its own later events wait; requeue publishes them in order', async () => {
    const poisoned = newId();
    await insertEvents(f.sql, [
      buildProductEvent('product.created', snapshot(poisoned, 1, 'x'.repeat(150_000)), {
        shardCount: 64,
        topic: f.topic,
      }),
      buildProductEvent('product.updated', snapshot(poisoned, 2, 'fine'), { shardCount: 64, topic: f.topic }),
      buildProductEvent('product.updated', snapshot(poisoned, 3, 'fine'), { shardCount: 64, topic: f.topic }),
    ]);
    const others = await seedOutbox(f.sql, { topic: f.topic, products: 50, eventsPerProduct: 3 });
    await f.startRelay({
      RELAY_MAX_ATTEMPTS: '3',
      RELAY_BACKOFF_BASE_MS: '100',
      RELAY_BACKOFF_MAX_MS: '500',
    });

    await f.waitAllPublished(others.length * 3).catch(async (err: unknown) => {
      const { rows } = await f.sql.query(
        `select status, attempts, last_error, count(*)::int as n from outbox_event group by 1, 2, 3`,
      );
      throw new Error(
        `statuses ${JSON.stringify(rows)}; relay said:\n${f.relays[0]!.output().slice(0, 3000)}`,
        { cause: err },
      );
    });
    const dead = await waitFor(
      async () => {
        const { rows } = await f.sql.query<{
          aggregate_version: number;
          status: string;
          attempts: number;
          last_error: string;
        }>(
          `select aggregate_version, status, attempts, last_error from outbox_event where aggregate_id = $1 order by seq`,
          [poisoned],
        );
        return rows[0]?.status === 'DEAD' ? rows : undefined;
      },
      { description: 'the poison event to go DEAD' },
    );
    expect(dead[0]).toMatchObject({ status: 'DEAD', attempts: 3 });
    expect(dead[0]!.last_error).toMatch(/message_too_large/);
    expect(dead.slice(1).map((r) => [r.aggregate_version, r.status, r.attempts])).toEqual([
      [2, 'PENDING', 0],
      [3, 'PENDING', 0],
    ]);

    // Its two later events are reported apart as blocked, not as backlog (DESIGN §6).
    await waitFor(
      async () =>
        (await relayMetric(f.relays[0]!, 'shopstream_outbox_blocked_events')) === 2 &&
        (await relayMetric(f.relays[0]!, 'shopstream_outbox_dead_events')) === 1 &&
        (await relayMetric(f.relays[0]!, 'shopstream_outbox_pending_events')) === 0,
      { description: 'the relay to report 2 blocked, 1 dead and 0 pending events' },
    );

    // The CLI lists it as DEAD.
    const env = { DATABASE_URL: f.db.url, KAFKA_BROKERS: f.brokers };
    const listed = await runCli(['outbox', 'list', '--status', 'dead', '--json'], env);
    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.stdout) as { id: string }[]).map((r) => r.id)).toEqual([
      dead[0] && (await idOf(f, poisoned, 1)),
    ]);

    // Fix the cause (the topic accepts larger messages now), then requeue through the CLI.
    const kafka = new Kafka({ clientId: 'fix', brokers: [f.brokers], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.alterConfigs({
      validateOnly: false,
      resources: [
        { type: 2, name: f.topic, configEntries: [{ name: 'max.message.bytes', value: '1000000' }] },
      ],
    });
    await admin.disconnect();
    const requeued = await runCli(['outbox', 'requeue', '--all'], env);
    expect(requeued.stdout).toMatch(/requeued 1 DEAD event/);

    const total = others.length * 3 + 3;
    await f.waitAllPublished(total);
    const records = await readTopic(f.brokers, f.topic, total);
    expect(versionsByProduct(records).get(poisoned)).toEqual([1, 2, 3]);
  });

  it('refuses bad CLI input with a message and a non-zero exit', async () => {
    const env = { DATABASE_URL: f.db.url, KAFKA_BROKERS: f.brokers };
    expect(await runCli(['outbox', 'skip', 'not-a-uuid'], env)).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/skip needs an event id/),
    });
    expect(await runCli(['outbox', 'requeue', newId()], env)).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/no outbox event/),
    });
    expect(await runCli(['outbox', 'list', '--status', 'lost'], env)).toMatchObject({ code: 2 });
  });
});

async function idOf(f: RelayFixture, aggregateId: string, version: number): Promise<string> {
  const { rows } = await f.sql.query<{ id: string }>(
    'select id from outbox_event where aggregate_id = $1 and aggregate_version = $2',
    [aggregateId, version],
  );
  return rows[0]!.id;
}
