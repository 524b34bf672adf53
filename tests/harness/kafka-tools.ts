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

/** kafka-consumer-groups' table rows for `topic`, by partition: the whitespace-separated columns. */
function groupTable(out: string, topic: string): Map<number, string[]> {
  const rows = new Map<number, string[]>();
  for (const line of out.split('\n')) {
    const cols = line.trim().split(/\s+/);
    if (cols[1] === topic) rows.set(Number(cols[2]), cols);
  }
  return rows;
}

const column = (rows: Map<number, string[]>, index: number): Record<number, string> =>
  Object.fromEntries([...rows].map(([partition, cols]) => [partition, cols[index]!]));

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
  return column(groupTable(out, topic), 3);
}

/** CURRENT-OFFSET, LOG-END-OFFSET and LAG per partition from `kafka-consumer-groups --describe` ('-' where the group never committed). */
export async function consumerGroupsDescribe(
  brokers: string,
  group: string,
  topic: string,
): Promise<Record<number, { current: string; logEnd: string; lag: string }>> {
  const out = await runKafkaTool(KafkaTool.consumerGroups, [
    '--bootstrap-server',
    brokers,
    '--describe',
    '--group',
    group,
  ]);
  return Object.fromEntries(
    [...groupTable(out, topic)].map(([partition, c]) => [
      partition,
      { current: c[3]!, logEnd: c[4]!, lag: c[5]! },
    ]),
  );
}

/** CURRENT-OFFSET per partition from `kafka-consumer-groups --describe` ('-' where the group never committed). */
export async function consumerGroupsCommitted(
  brokers: string,
  group: string,
  topic: string,
): Promise<Record<number, string>> {
  const described = await consumerGroupsDescribe(brokers, group, topic);
  return Object.fromEntries(Object.entries(described).map(([p, d]) => [p, d.current]));
}
