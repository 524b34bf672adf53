import type { Command } from 'commander';
import type { PartitionLag } from '@shopstream/shared';
import { loadCliConfig } from '../context.js';
import { CliError, emit, runAction, usageError } from '../output.js';
import { cliKafka } from '../kafka-client.js';
import { committedTopics, groupLag, timestampsAt, topicExists } from '../lag/kafka-lag.js';
import { buildLagReport, formatLagTable, oldestUnconsumedOffset } from '../lag/lag-report.js';
import type { StartFrom } from '../lag/lag-report.js';
import { kafkaError } from '../status/unreachable.js';

interface LagOptions {
  group?: string;
  topic?: string;
  startFrom: string;
  json?: boolean;
}

/**
 * `shopstream lag`: where a consumer group stands per partition, in messages (Kafka's own numbers,
 * through the describeLag the consumer and operator use) and in seconds (age of the oldest message
 * it has not consumed).
 */
export function register(program: Command): void {
  program
    .command('lag')
    .description(
      'Committed offset, log-end offset and lag (messages and seconds) per partition of a consumer group.',
    )
    .option('--group <group>', 'consumer group (default: CONSUMER_GROUP_ID)')
    .option('--topic <topic>', "topic (default: the group's committed topics, else CONSUMER_TOPIC)")
    .option(
      '--start-from <position>',
      'where a group without a commit starts: earliest or latest (the consumer default is earliest)',
      'earliest',
    )
    .option('--json', 'print JSON')
    .action((options: LagOptions) => runAction(() => lag(options)));
}

async function lag(options: LagOptions): Promise<void> {
  if (options.startFrom !== 'earliest' && options.startFrom !== 'latest') {
    throw usageError(`--start-from must be earliest or latest, not ${options.startFrom}`);
  }
  const startFrom: StartFrom = options.startFrom;
  const config = loadCliConfig(process.env);
  const group = options.group ?? config.CONSUMER_GROUP_ID;
  const kafka = cliKafka(config);
  const admin = kafka.admin();
  try {
    await admin.connect();
    const topics = options.topic
      ? [options.topic]
      : await committedTopics(admin, group).then((t) => (t.length ? t : [config.CONSUMER_TOPIC]));
    const partitions: PartitionLag[] = [];
    for (const topic of topics) {
      if (!(await topicExists(admin, topic))) {
        throw new CliError(`topic ${topic} does not exist on ${config.KAFKA_BROKERS.join(',')}`);
      }
      partitions.push(...(await groupLag(admin, group, topic, startFrom)));
    }
    const wanted = partitions.flatMap((p) => {
      const offset = oldestUnconsumedOffset(p, startFrom);
      return offset === null ? [] : [{ topic: p.topic, partition: p.partition, offset }];
    });
    const timestamps = await timestampsAt(kafka, wanted);
    const rows = buildLagReport(partitions, timestamps, startFrom, Date.now());
    emit(options, { group, startFrom, totalLag: rows.reduce((n, r) => n + r.lag, 0), partitions: rows }, () =>
      formatLagTable(group, rows),
    );
  } catch (err) {
    throw kafkaError(err, config);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
