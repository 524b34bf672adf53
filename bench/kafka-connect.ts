/**
 * Kafka Connect standalone as a plain Java process, for bench/debezium.ts: its jars come from
 * infra/lib/install-connect.sh (Maven Central, cached by version), never from `infra.sh up`.
 */
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../tests/harness/infra.js';
import { freePort } from '../tests/harness/processes.js';
import { waitFor } from '../tests/harness/wait-for.js';

export interface ConnectProcess {
  restUrl: string;
  logFile: string;
  /** The task producer's effective settings, as Kafka's ProducerConfig logged them at start-up. */
  producerSettings(): Promise<Record<string, string>>;
  stop(): Promise<void>;
}

/** Every JVM this process started: killed on exit too, so a crashed bench leaves no Connect behind. */
const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** Resolves (first time: downloads) Connect + Debezium; returns the libs directory. */
export function installConnect(): string {
  return execFileSync('bash', [join(repoRoot, 'infra', 'lib', 'install-connect.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
}

const properties = (entries: Record<string, string>): string =>
  `${Object.entries(entries)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n')}\n`;

// Quiet except for what the bench reads: the producer's settings and the connector's failures.
const log4j2 = (file: string): string => `status = warn
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = ${file}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.file.ref = FILE
logger.producer.name = org.apache.kafka.clients.producer.ProducerConfig
logger.producer.level = INFO
logger.config.name = org.apache.kafka.common.config.AbstractConfig
logger.config.level = INFO
logger.debezium.name = io.debezium
logger.debezium.level = INFO
`;

/** Starts Connect standalone with one connector and waits until the connector and its task run. */
export async function startConnect(options: {
  brokers: string;
  connectorName: string;
  connector: Record<string, string>;
}): Promise<ConnectProcess> {
  const libs = installConnect();
  const dir = await mkdtemp(join(tmpdir(), 'shopstream-connect-'));
  const port = await freePort();
  const restUrl = `http://127.0.0.1:${port}`;
  const logFile = join(dir, 'connect.log');
  await writeFile(join(dir, 'log4j2.properties'), log4j2(logFile));
  await writeFile(
    join(dir, 'worker.properties'),
    properties({
      'bootstrap.servers': options.brokers,
      'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
      'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
      'offset.storage.file.filename': join(dir, 'offsets'),
      'offset.flush.interval.ms': '10000',
      // Connect's worker gives its source tasks acks=all and max.in.flight=1 but leaves idempotence off
      // (ProducerConfig logs enable.idempotence = false); the relay and the kafkajs ceiling run with it on.
      'producer.enable.idempotence': 'true',
      listeners: restUrl,
    }),
  );
  await writeFile(
    join(dir, 'connector.properties'),
    properties({ name: options.connectorName, 'tasks.max': '1', ...options.connector }),
  );
  const child = spawn(
    'java',
    [
      '-Xms256m',
      '-Xmx1g',
      '-XX:+UseG1GC',
      '-Djava.awt.headless=true',
      `-Dlog4j2.configurationFile=${join(dir, 'log4j2.properties')}`,
      '-cp',
      `${libs}/*`,
      'org.apache.kafka.connect.cli.ConnectStandalone',
      join(dir, 'worker.properties'),
      join(dir, 'connector.properties'),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.add(child);
  const console = createWriteStream(join(dir, 'stdout.log'));
  child.stdout.pipe(console);
  child.stderr.pipe(console);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let gone = false;
  void exited.then(() => (gone = true));

  const stop = async (): Promise<void> => {
    if (!gone) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    }
    children.delete(child);
    await rm(dir, { recursive: true, force: true });
  };
  const tail = async (): Promise<string> =>
    (await readFile(logFile, 'utf8').catch(() => '')).split('\n').slice(-40).join('\n') +
    (await readFile(join(dir, 'stdout.log'), 'utf8').catch(() => '')).slice(-3000);

  try {
    // waitFor retries a probe that throws, so a dead JVM or a FAILED task ends the wait by value.
    const outcome = await waitFor<{ error?: string }>(
      async () => {
        if (gone) return { error: 'Kafka Connect exited during start-up' };
        const res = await fetch(`${restUrl}/connectors/${options.connectorName}/status`).catch(
          () => undefined,
        );
        if (!res?.ok) return false;
        const status = (await res.json()) as {
          connector: { state: string; trace?: string };
          tasks: { state: string; trace?: string }[];
        };
        const failed = [status.connector, ...status.tasks].find((s) => s.state === 'FAILED');
        if (failed) return { error: `connector failed: ${failed.trace ?? ''}` };
        return status.connector.state === 'RUNNING' && status.tasks[0]?.state === 'RUNNING' && {};
      },
      { description: `connector ${options.connectorName} running`, timeoutMs: 120_000, intervalMs: 250 },
    );
    if (outcome.error) throw new Error(outcome.error);
  } catch (error) {
    const log = await tail();
    await stop();
    throw new Error(`${(error as Error).message}\n--- Connect log tail ---\n${log}`, { cause: error });
  }

  return {
    restUrl,
    logFile,
    async producerSettings() {
      const text = await readFile(logFile, 'utf8');
      // One "ProducerConfig values:" block per producer; the task's has client.id connector-producer-<name>-0.
      const blocks = text.split('ProducerConfig values:').slice(1);
      const block = blocks.find((b) => b.includes(`connector-producer-${options.connectorName}-`)) ?? '';
      const settings: Record<string, string> = {};
      for (const line of block.split('\n')) {
        const m = /^\s+([a-z0-9.]+) = (.*)$/.exec(line);
        if (m) settings[m[1]!] = m[2]!;
        else if (Object.keys(settings).length > 0 && line.trim() !== '') break;
      }
      return settings;
    },
    stop,
  };
}
