import type { Command } from 'commander';
import { ConsumerGroupAdmin } from '@shopstream/operator';
import { loadCliConfig } from '../context.js';
import { CliError, emit, runAction } from '../output.js';
import { cliGroupAdminHandle, cliKafka } from '../kafka-client.js';
import { topicExists } from '../lag/kafka-lag.js';
import { formatPlan, parseResetTarget, refuseActiveGroup } from '../offsets/reset-target.js';
import type { TargetOptions } from '../offsets/reset-target.js';
import { kafkaError } from '../status/unreachable.js';

interface ResetOptions extends TargetOptions {
  group: string;
  topic: string;
  execute?: boolean;
  json?: boolean;
}

/**
 * `shopstream reset-offsets`: kafka-consumer-groups --reset-offsets for one group and topic, with
 * the operator's resolution (planOffsetReset), so the CLI and a ProductPipeline reset agree.
 * A dry run unless --execute; refused while the group has members.
 */
export function register(program: Command): void {
  program
    .command('reset-offsets')
    .description("Plan (default) or apply a reset of a consumer group's committed offsets on a topic.")
    .requiredOption('--group <group>', 'consumer group')
    .requiredOption('--topic <topic>', 'topic')
    .option('--to-earliest', 'the log start of every partition')
    .option('--to-latest', 'the log end of every partition')
    .option('--to-datetime <datetime>', 'the first offset at or after this RFC 3339 time')
    .option('--by-duration <duration>', 'the first offset at or after now minus this ISO 8601 duration')
    .option('--shift-by <n>', 'the committed offset plus n (negative: back), within the log')
    .option('--to-offset <n>', 'this offset, within the log')
    .option('--execute', 'write the offsets (otherwise only print the plan)')
    .option('--json', 'print JSON')
    .action((options: ResetOptions) => runAction(() => resetOffsets(options)));
}

async function resetOffsets(options: ResetOptions): Promise<void> {
  const target = parseResetTarget(options);
  const config = loadCliConfig(process.env);
  const { group, topic } = options;
  const groups = new ConsumerGroupAdmin(cliGroupAdminHandle(config));
  const admin = cliKafka(config).admin();
  try {
    await admin.connect();
    if (!(await topicExists(admin, topic))) {
      throw new CliError(`topic ${topic} does not exist on ${config.KAFKA_BROKERS.join(',')}`);
    }
    refuseActiveGroup(group, await groups.describe(group, []));
    const plan = await groups.plan(group, [topic], target);
    if (options.execute) {
      // A consumer may have joined while the plan was made: its next commit would undo the reset.
      refuseActiveGroup(group, await groups.describe(group, []));
      await groups.commit(group, plan);
    }
    emit(options, { group, topic, target, executed: Boolean(options.execute), partitions: plan }, () =>
      formatPlan(group, plan, Boolean(options.execute)),
    );
  } catch (err) {
    if (err instanceof RangeError) throw new CliError(err.message, 2);
    throw kafkaError(err, config);
  } finally {
    await Promise.allSettled([groups.close(), admin.disconnect()]);
  }
}
