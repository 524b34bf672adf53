import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { infraEnv } from './infra.js';
import { freePort } from './processes.js';
import { waitFor } from './wait-for.js';

const run = promisify(execFile);

export interface PrivateKafka {
  brokers: string;
  /** Stops the broker (SIGTERM, then waits for exit); its data stays for `start()`. */
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

/**
 * A second, single-node KRaft broker from the same jars, for tests that stop Kafka: the shared
 * broker other test files use stays up.
 */
export async function startPrivateKafka(): Promise<PrivateKafka> {
  const env = infraEnv();
  const dir = await mkdtemp(join(tmpdir(), 'kafka-'));
  const [port, controller] = [await freePort(), await freePort()];
  const props = join(dir, 'server.properties');
  await writeFile(
    props,
    [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.bootstrap.servers=127.0.0.1:${controller}`,
      `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controller}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controller}`,
      'inter.broker.listener.name=PLAINTEXT',
      'controller.listener.names=CONTROLLER',
      'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
      `log.dirs=${join(dir, 'data')}`,
      'auto.create.topics.enable=false',
      'offsets.topic.replication.factor=1',
      'offsets.topic.num.partitions=3',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'share.coordinator.state.topic.replication.factor=1',
      'share.coordinator.state.topic.min.isr=1',
      'group.initial.rebalance.delay.ms=0',
    ].join('\n'),
  );
  const java = ['-Xmx512m', `-Dlog4j2.configurationFile=${env.kafkaLog4jConfig}`, '-cp', env.kafkaClasspath];
  const { stdout: clusterId } = await run('java', [...java, 'kafka.tools.StorageTool', 'random-uuid']);
  await run('java', [
    ...java,
    'kafka.tools.StorageTool',
    'format',
    '--standalone',
    '-t',
    clusterId.trim(),
    '-c',
    props,
  ]);

  const brokers = `127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    child = spawn('java', [...java, 'kafka.Kafka', props], { stdio: 'ignore' });
    const kafka = new Kafka({
      clientId: 'probe',
      brokers: [brokers],
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    });
    await waitFor(
      async () => {
        const admin = kafka.admin();
        try {
          await admin.connect();
          await admin.listTopics();
          return true;
        } finally {
          await admin.disconnect();
        }
      },
      { description: `private Kafka on ${brokers}`, timeoutMs: 60_000, intervalMs: 500 },
    );
  };
  const stop = async (): Promise<void> => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    await exited;
  };
  await start();
  return {
    brokers,
    start,
    stop,
    destroy: async () => {
      if (child) child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    },
  };
}
