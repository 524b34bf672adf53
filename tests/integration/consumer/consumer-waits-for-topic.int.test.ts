import { createConnection, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, waitFor } from '../../harness/index.js';
import { consumerFixture, logLines, productEvents, readModels } from './consumer-fixture.js';
import type { ConsumerFixture, ConsumerProcess, LogLine } from './consumer-fixture.js';

// Issue 17 item 3: on a first `tilt up` the consumer may start before the operator has created its
// topics through Strimzi. It must then stay up and not ready, say why, and look again — not exit
// and crash-loop. Each case runs the real consumer process against the real Kafka and PostgreSQL.

/** Short re-checks, and debug lines so that every check shows in the output. */
const WAIT_ENV = { CONSUMER_TOPIC_WAIT_INTERVAL_MS: '300', LOG_LEVEL: 'debug' };

const waiting = (consumer: ConsumerProcess): LogLine[] =>
  logLines(consumer, 'consumer waiting for its topics');
const warnings = (consumer: ConsumerProcess): LogLine[] =>
  waiting(consumer).filter((l) => l.level === 'warn');

/** The HTTP status of one of the consumer's ops endpoints. */
async function ops(consumer: ConsumerProcess, path: '/healthz' | '/readyz'): Promise<number> {
  return (await fetch(`http://127.0.0.1:${consumer.metricsPort}${path}`)).status;
}

/** `shopstream_consumer_waiting_for_topic` of the group and `topic` (undefined while not exported). */
async function waitingGauge(f: ConsumerFixture, consumer: ConsumerProcess, topic: string) {
  const prefix = `shopstream_consumer_waiting_for_topic{group="${f.group}",topic="${topic}"} `;
  const line = (await consumer.metrics()).split('\n').find((l) => l.startsWith(prefix));
  return line === undefined ? undefined : Number(line.slice(prefix.length));
}

async function createTopics(f: ConsumerFixture, topics: { topic: string; numPartitions: number }[]) {
  const admin = f.kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: topics.map((t) => ({ ...t, replicationFactor: 1 })),
      waitForLeaders: true,
    });
  } finally {
    await admin.disconnect();
  }
}

/** Waits until the consumer has checked `checks` times, and asserts it is up and not ready. */
async function expectWaitingNotReady(consumer: ConsumerProcess, checks: number): Promise<void> {
  await waitFor(() => waiting(consumer).length >= checks, {
    description: `${checks} checks for the topics`,
    timeoutMs: 60_000,
  }).catch((err: unknown) => {
    throw new Error(`the consumer did not keep waiting; its output:\n${consumer.output()}`, { cause: err });
  });
  expect({ exitCode: consumer.child.exitCode, signal: consumer.child.signalCode }).toEqual({
    exitCode: null,
    signal: null,
  });
  expect(await ops(consumer, '/healthz')).toBe(200);
  expect(await ops(consumer, '/readyz')).toBe(503);
  expect(consumer.output()).not.toContain('consumer start position');
}

async function expectReadyAndApplied(
  f: ConsumerFixture,
  consumer: ConsumerProcess,
  applied: number,
): Promise<void> {
  await waitFor(async () => (await ops(consumer, '/readyz')) === 200, {
    description: 'the consumer to be ready once its topics exist',
    timeoutMs: 60_000,
  });
  await waitFor(async () => (await readModels(f.sql)).inbox === applied, {
    description: `all ${applied} events applied`,
    timeoutMs: 60_000,
  });
}

/** SIGTERM, and the exit code (or 'still running' after a generous 20 s). */
async function terminate(consumer: ConsumerProcess): Promise<number | string> {
  consumer.child.kill('SIGTERM');
  // Unref'd: a timer left running would keep Jest from exiting after the file.
  return Promise.race([consumer.exited, sleep(20_000, 'still running', { ref: false })]);
}

describe('the consumer waits, not ready, for a topic or dead-letter topic that does not exist', () => {
  let f: ConsumerFixture | undefined;
  afterEach(async () => {
    await f?.close();
    f = undefined;
  });

  it('both topics missing: it stays up, says why, and consumes once the topic and then the DLQ topic are created', async () => {
    f = await consumerFixture({ partitions: 3, missing: ['topic', 'dlq'] });
    const consumer = await f.launchConsumer(WAIT_ENV);
    await expectWaitingNotReady(consumer, 4);

    // One warning for an unchanged situation (the repeats are debug lines), naming topic and group.
    const [both, ...more] = warnings(consumer);
    expect(more).toEqual([]);
    expect(both).toMatchObject({
      groupId: f.group,
      topic: f.topic,
      dlqTopic: f.dlq,
      missing: [f.topic, f.dlq],
    });
    expect(String(both!.reason)).toContain(
      `topic ${f.topic} does not exist (or the Kafka user may not describe it): group ${f.group} consumes nothing until it appears; create the topic (the ProductPipeline operator creates it), or check CONSUMER_TOPIC`,
    );
    expect(String(both!.reason)).toContain(`dead-letter topic ${f.dlq} does not exist either`);
    expect(await waitingGauge(f, consumer, f.topic)).toBe(1);
    expect(await waitingGauge(f, consumer, f.dlq)).toBe(1);

    // The topic appears: a new warning, for the DLQ topic alone; still not ready.
    await createTopics(f, [{ topic: f.topic, numPartitions: 3 }]);
    const events = productEvents(3, 2, f.topic);
    await f.produce(events);
    await waitFor(() => warnings(consumer).length === 2, {
      description: 'a warning naming the DLQ topic alone',
    });
    expect(warnings(consumer)[1]).toMatchObject({ groupId: f.group, missing: [f.dlq] });
    await expectWaitingNotReady(consumer, waiting(consumer).length + 2);
    expect(await waitingGauge(f, consumer, f.topic)).toBe(0);
    expect(await waitingGauge(f, consumer, f.dlq)).toBe(1);
    expect((await readModels(f.sql)).inbox).toBe(0);

    // The DLQ topic appears: it starts as it always does, and applies the events.
    await createTopics(f, [{ topic: f.dlq, numPartitions: 1 }]);
    await expectReadyAndApplied(f, consumer, events.length);
    const { search } = await readModels(f.sql);
    expect(search).toHaveLength(3);
    expect(search.every((row) => (row as { source_version: number }).source_version === 2)).toBe(true);
    expect(logLines(consumer, 'consumer topics exist')).toEqual([
      expect.objectContaining({ level: 'info', groupId: f.group, topic: f.topic, dlqTopic: f.dlq }),
    ]);
    expect(logLines(consumer, 'consumer start position').map((l) => l.partition)).toEqual([0, 1, 2]);
    expect(await waitingGauge(f, consumer, f.topic)).toBe(0);
    expect(await waitingGauge(f, consumer, f.dlq)).toBe(0);
    expect(await terminate(consumer)).toBe(0);
  });

  it('the DLQ topic missing: it consumes nothing, says so naming CONSUMER_DLQ_TOPIC, and proceeds once it is created', async () => {
    f = await consumerFixture({ partitions: 2, missing: ['dlq'] });
    const events = productEvents(4, 2, f.topic);
    await f.produce(events);
    const consumer = await f.launchConsumer(WAIT_ENV);
    await expectWaitingNotReady(consumer, 3);

    expect(warnings(consumer)).toEqual([
      expect.objectContaining({
        groupId: f.group,
        topic: f.topic,
        dlqTopic: f.dlq,
        missing: [f.dlq],
        reason: `dead-letter topic ${f.dlq} does not exist (or the Kafka user may not describe it): group ${f.group} consumes nothing until it appears, since an event at fault itself could be neither applied nor set aside; create the topic, or set CONSUMER_DLQ_TOPIC`,
      }),
    ]);
    expect(await waitingGauge(f, consumer, f.topic)).toBe(0);
    expect(await waitingGauge(f, consumer, f.dlq)).toBe(1);
    expect((await readModels(f.sql)).inbox).toBe(0);

    await createTopics(f, [{ topic: f.dlq, numPartitions: 1 }]);
    await expectReadyAndApplied(f, consumer, events.length);
    expect(logLines(consumer, 'consumer start position').map((l) => l.partition)).toEqual([0, 1]);
    expect(await waitingGauge(f, consumer, f.dlq)).toBe(0);
    expect(await terminate(consumer)).toBe(0);
  });

  it('SIGTERM while waiting: it stops waiting and exits 0', async () => {
    f = await consumerFixture({ partitions: 1, missing: ['topic', 'dlq'] });
    // A long interval: the exit must not wait for the next check.
    const consumer = await f.launchConsumer({ ...WAIT_ENV, CONSUMER_TOPIC_WAIT_INTERVAL_MS: '600000' });
    await waitFor(() => warnings(consumer).length === 1, { description: 'the waiting warning' });
    expect(await ops(consumer, '/readyz')).toBe(503);

    expect(await terminate(consumer)).toBe(0);
    expect(
      logLines(consumer, 'shutting down: finishing the batch, committing, leaving the group'),
    ).toHaveLength(1);
    expect(logLines(consumer, 'stopped')).toHaveLength(1);
    expect(consumer.output()).not.toContain('consumer failed to start');
    expect(consumer.output()).not.toContain('consumer start position');
  });

  it('Kafka not answering while it waits: it keeps retrying, and consumes once Kafka answers', async () => {
    f = await consumerFixture({ partitions: 1 });
    const fx = f;
    const events = productEvents(2, 2, fx.topic);
    await fx.produce(events);
    // Nothing listens at this address until the forwarder below opens it to the real broker.
    const port = await freePort();
    const consumer = await fx.launchConsumer({ ...WAIT_ENV, KAFKA_BROKERS: `127.0.0.1:${port}` });
    let forwarder: Server | undefined;
    const sockets: Socket[] = [];
    try {
      await expectWaitingNotReady(consumer, 2);
      expect(warnings(consumer)[0]).toMatchObject({
        groupId: fx.group,
        reason: `Kafka did not say whether topic ${fx.topic} and dead-letter topic ${fx.dlq} exist: group ${fx.group} consumes nothing until it does; retrying`,
      });
      expect(String(warnings(consumer)[0]!.err)).toMatch(/ECONNREFUSED|Connection error/);

      const [host, brokerPort] = fx.brokers.split(':');
      forwarder = createServer((socket) => {
        const upstream = createConnection(Number(brokerPort), host);
        sockets.push(socket, upstream);
        socket.pipe(upstream).pipe(socket);
        socket.on('error', () => upstream.destroy());
        upstream.on('error', () => socket.destroy());
      });
      const listening = forwarder;
      await new Promise<void>((resolve) => listening.listen(port, '127.0.0.1', resolve));
      await expectReadyAndApplied(fx, consumer, events.length);
      expect(await terminate(consumer)).toBe(0);
    } finally {
      consumer.child.kill('SIGKILL');
      for (const socket of sockets) socket.destroy();
      const closing = forwarder;
      if (closing) await new Promise((resolve) => closing.close(resolve));
    }
  });
});
