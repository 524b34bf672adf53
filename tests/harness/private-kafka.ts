import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
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
  /** The PLAINTEXT listener: what test setup (topics, reading records) uses. */
  brokers: string;
  /** host:port of each extra listener, by name (see PrivateKafkaOptions.listeners). */
  listeners: Record<string, string>;
  /** The broker's temporary directory (config, data, and whatever `prepare` wrote). */
  dir: string;
  /** The broker's console output, when `logFile` was asked for. */
  logFile?: string;
  /** Stops the broker (SIGTERM, then waits for exit); its data stays for `start()`. */
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

/** What a broker beyond the plain one needs (secured-kafka.ts builds these). */
export interface PrivateKafkaOptions {
  /** Extra listeners, name → security protocol (e.g. `SASL_SSL: 'SASL_SSL'`), each on a free port. */
  listeners?: Record<string, string>;
  /** Writes files into the broker's directory; returns extra server.properties lines and `format` arguments. */
  prepare?: (dir: string) => Promise<{ properties: string[]; formatArgs?: string[] }>;
  /** A log4j2 configuration instead of the shared broker's (e.g. to log failed authentications). */
  log4jConfig?: (dir: string) => Promise<string>;
  /** Keep the broker's console output in `<dir>/broker.log`. */
  logFile?: boolean;
}

/**
 * A second, single-node KRaft broker from the same jars, for tests that stop Kafka or need
 * listeners the shared broker lacks: the shared broker other test files use stays as it is.
 */
export async function startPrivateKafka(options: PrivateKafkaOptions = {}): Promise<PrivateKafka> {
  const env = infraEnv();
  const dir = await mkdtemp(join(tmpdir(), 'kafka-'));
  const [port, controller] = [await freePort(), await freePort()];
  const extra: { name: string; protocol: string; port: number }[] = [];
  for (const [name, protocol] of Object.entries(options.listeners ?? {})) {
    extra.push({ name, protocol, port: await freePort() });
  }
  const listenerList = [
    `PLAINTEXT://127.0.0.1:${port}`,
    `CONTROLLER://127.0.0.1:${controller}`,
    ...extra.map((l) => `${l.name}://127.0.0.1:${l.port}`),
  ].join(',');
  const protocolMap = [
    'CONTROLLER:PLAINTEXT',
    'PLAINTEXT:PLAINTEXT',
    ...extra.map((l) => `${l.name}:${l.protocol}`),
  ].join(',');
  const prepared = options.prepare ? await options.prepare(dir) : { properties: [] };
  const props = join(dir, 'server.properties');
  await writeFile(
    props,
    [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.bootstrap.servers=127.0.0.1:${controller}`,
      `listeners=${listenerList}`,
      `advertised.listeners=${listenerList}`,
      'inter.broker.listener.name=PLAINTEXT',
      'controller.listener.names=CONTROLLER',
      `listener.security.protocol.map=${protocolMap}`,
      `log.dirs=${join(dir, 'data')}`,
      'auto.create.topics.enable=false',
      'offsets.topic.replication.factor=1',
      'offsets.topic.num.partitions=3',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'share.coordinator.state.topic.replication.factor=1',
      'share.coordinator.state.topic.min.isr=1',
      'group.initial.rebalance.delay.ms=0',
      ...prepared.properties,
    ].join('\n'),
  );
  const log4j = options.log4jConfig ? await options.log4jConfig(dir) : env.kafkaLog4jConfig;
  const java = ['-Xmx512m', `-Dlog4j2.configurationFile=${log4j}`, '-cp', env.kafkaClasspath];
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
    ...(prepared.formatArgs ?? []),
  ]);

  const brokers = `127.0.0.1:${port}`;
  const logFile = options.logFile ? join(dir, 'broker.log') : undefined;
  let child: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    const out = logFile ? openSync(logFile, 'a') : 'ignore';
    child = spawn('java', [...java, 'kafka.Kafka', props], { stdio: ['ignore', out, out] });
    if (typeof out === 'number') closeSync(out); // the child holds its own copy
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
    listeners: Object.fromEntries(extra.map((l) => [l.name, `127.0.0.1:${l.port}`])),
    dir,
    ...(logFile ? { logFile } : {}),
    start,
    stop,
    destroy: async () => {
      const c = child;
      child = undefined;
      if (c && c.exitCode === null && c.signalCode === null) {
        const exited = new Promise((r) => c.once('exit', r));
        c.kill('SIGKILL');
        await exited; // so no test file ends with the broker still in the process table
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
