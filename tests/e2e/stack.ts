import { Kafka, logLevel } from 'kafkajs';
import { sign } from 'hono/jwt';
import { migrate } from '@shopstream/shared';
import {
  createTestDatabase,
  freePort,
  infraEnv,
  randomGroup,
  randomTopic,
  startService,
  waitFor,
} from '../harness/index.js';
import type { ServiceProcess, TestDatabase } from '../harness/index.js';

export interface Stack {
  apiUrl: string;
  db: TestDatabase;
  topic: string;
  token(seller: string): Promise<string>;
  processes: Record<'api' | 'relay' | 'consumer', ServiceProcess>;
  stop(): Promise<void>;
}

const secret = 'e2e-secret-of-at-least-32-characters-long';

/** API, one relay and one consumer as real processes on a fresh database and fresh topics. */
export async function startStack(): Promise<Stack> {
  const db = await createTestDatabase('e2e');
  await migrate(db.url);
  const brokers = infraEnv().kafkaBrokers;
  const topic = randomTopic('product.events');
  const kafka = new Kafka({ clientId: 'e2e', brokers: [brokers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [
      { topic, numPartitions: 3, replicationFactor: 1 },
      { topic: `${topic}.dlq`, numPartitions: 1, replicationFactor: 1 },
    ],
    waitForLeaders: true,
  });
  await admin.disconnect();
  const [apiPort, relayPort, consumerPort] = [await freePort(), await freePort(), await freePort()];
  const common = { DATABASE_URL: db.url, KAFKA_BROKERS: brokers, LOG_LEVEL: 'warn' };
  const processes = {
    api: startService('services/api/src/main.ts', {
      ...common,
      PORT: String(apiPort),
      HOST: '127.0.0.1',
      JWT_SECRET: secret,
      PRODUCT_EVENTS_TOPIC: topic,
    }),
    relay: startService('services/relay/src/main.ts', {
      ...common,
      METRICS_PORT: String(relayPort),
      METRICS_HOST: '127.0.0.1',
    }),
    consumer: startService('services/consumer/src/main.ts', {
      ...common,
      METRICS_PORT: String(consumerPort),
      METRICS_HOST: '127.0.0.1',
      CONSUMER_TOPIC: topic,
      CONSUMER_GROUP_ID: randomGroup('product-consumer'),
    }),
  };
  for (const url of [
    `http://127.0.0.1:${apiPort}/readyz`,
    `http://127.0.0.1:${relayPort}/readyz`,
    `http://127.0.0.1:${consumerPort}/readyz`,
  ]) {
    await waitFor(async () => (await fetch(url).catch(() => undefined))?.ok, {
      description: url,
      timeoutMs: 60_000,
    });
  }
  return {
    apiUrl: `http://127.0.0.1:${apiPort}`,
    db,
    topic,
    processes,
    token: (seller) => sign({ sub: seller, exp: Math.floor(Date.now() / 1000) + 3600 }, secret, 'HS256'),
    async stop() {
      for (const p of Object.values(processes)) p.child.kill('SIGTERM');
      await Promise.all(Object.values(processes).map((p) => p.exited));
      await db.drop();
      const a = kafka.admin();
      await a.connect();
      await a.deleteTopics({ topics: [topic, `${topic}.dlq`] }).catch(() => undefined);
      await a.disconnect();
    },
  };
}
