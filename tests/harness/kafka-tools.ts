import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { infraEnv } from './infra.js';

const run = promisify(execFile);

/** Kafka's own command-line tools, run from the broker's classpath: an independent check of what we built. */
export const KafkaTool = {
  topics: 'org.apache.kafka.tools.TopicCommand',
  consumerGroups: 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand',
  getOffsets: 'org.apache.kafka.tools.GetOffsetShell',
} as const;

/** Runs a Kafka CLI class against the local broker and returns its stdout; rejects with stderr on failure. */
export async function runKafkaTool(mainClass: string, args: string[]): Promise<string> {
  const env = infraEnv();
  const { stdout } = await run(
    'java',
    [
      '-Xmx256m',
      `-Dlog4j2.configurationFile=${env.kafkaLog4jConfig}`,
      '-cp',
      env.kafkaClasspath,
      mainClass,
      ...args,
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  return stdout;
}

/** Parses kafka-consumer-groups' table: column `column` (0-based) per partition of `topic`. */
function groupTable(out: string, topic: string, column: number): Record<number, string> {
  const result: Record<number, string> = {};
  for (const line of out.split('\n')) {
    const cols = line.trim().split(/\s+/);
    if (cols[1] === topic) result[Number(cols[2])] = cols[column]!;
  }
  return result;
}

/** NEW-OFFSET per partition from `kafka-consumer-groups --reset-offsets <args> --dry-run`. */
export async function consumerGroupsDryRun(
  brokers: string,
  group: string,
  topic: string,
  args: string[],
): Promise<Record<number, string>> {
  const out = await runKafkaTool(KafkaTool.consumerGroups, [
    '--bootstrap-server',
    brokers,
    '--group',
    group,
    '--topic',
    topic,
    '--reset-offsets',
    ...args,
    '--dry-run',
  ]);
  return groupTable(out, topic, 3);
}

/** CURRENT-OFFSET per partition from `kafka-consumer-groups --describe` ('-' where the group never committed). */
export async function consumerGroupsCommitted(
  brokers: string,
  group: string,
  topic: string,
): Promise<Record<number, string>> {
  const out = await runKafkaTool(KafkaTool.consumerGroups, [
    '--bootstrap-server',
    brokers,
    '--describe',
    '--group',
    group,
  ]);
  return groupTable(out, topic, 3);
}
