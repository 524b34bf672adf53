import type { Command } from 'commander';
import { DlqAdmin, DlqAdminError } from '@shopstream/shared';
import type { DlqEntry } from '@shopstream/shared';
import { loadDlqCliConfig } from '../dlq/dlq-config.js';
import {
  parseFilter,
  parseLimit,
  parsePosition,
  parsePurgeTarget,
  parseReplaySelection,
} from '../dlq/dlq-input.js';
import type { FilterOptions } from '../dlq/dlq-input.js';
import {
  formatList,
  formatPurge,
  formatRecord,
  formatReplayPlan,
  formatReplayReport,
} from '../dlq/dlq-render.js';
import { cliKafka } from '../kafka-client.js';
import { CliError, emit, runAction } from '../output.js';
import { Progress } from '../progress.js';
import { kafkaError } from '../status/unreachable.js';

interface TopicOptions {
  topic?: string;
  json?: boolean;
}
interface ListOptions extends TopicOptions, FilterOptions {
  limit?: string;
}
interface ReplayOptions extends TopicOptions, FilterOptions {
  all?: boolean;
  execute?: boolean;
}
interface PurgeOptions extends TopicOptions {
  toOffset?: string[];
  allBefore?: string;
  execute?: boolean;
}

const TOPIC_HELP = 'the DLQ topic (default: CONSUMER_DLQ_TOPIC, else <CONSUMER_TOPIC>.dlq, as the consumer)';

function filterOptions(command: Command): Command {
  return command
    .option('--code <code>', 'only records with this dlq_error_code')
    .option('--partition <n>', 'only this DLQ partition')
    .option(
      '--since <time>',
      'only records dead-lettered since: a duration back (10m, 2h, 7d) or an ISO time',
    )
    .option('--original-topic <topic>', 'only records dead-lettered from this topic');
}

/**
 * `shopstream dlq`: the consumer's dead-letter topic, through the DlqAdmin the admin page uses.
 * Reading never joins or commits a consumer group; replay and purge are dry runs unless --execute.
 */
export function register(program: Command): void {
  const dlq = program
    .command('dlq')
    .description(
      'Browse the dead-letter topic; replay records to their original topic; purge replayed ones.',
    );

  filterOptions(
    dlq
      .command('list')
      .description('DLQ records by partition and offset, read without a consumer group.')
      .option('--topic <topic>', TOPIC_HELP),
  )
    .option('--limit <n>', 'at most this many (default 100)')
    .option('--json', 'print JSON')
    .action((options: ListOptions) =>
      runAction(async () => {
        const filter = parseFilter(options, Date.now());
        const limit = parseLimit(options.limit);
        await withDlq(options, async (admin) => {
          const result = await admin.list(filter, limit);
          emit(options, result, () => formatList(result, limit));
        });
      }),
    );

  dlq
    .command('show')
    .description('One DLQ record with every header and its value.')
    .argument('<partition:offset>', 'where it is in the DLQ topic, e.g. 0:42')
    .option('--topic <topic>', TOPIC_HELP)
    .option('--json', 'print JSON')
    .action((at: string, options: TopicOptions) =>
      runAction(async () => {
        const position = parsePosition(at);
        await withDlq(options, async (admin) => {
          const [entry] = await admin.at([position]);
          emit(options, entry!.record, () => formatRecord(admin.topic, entry!.record));
        });
      }),
    );

  filterOptions(
    dlq
      .command('replay')
      .description(
        'Send records back to their original topic (original key, value and headers, plus dlq_replayed_at). Dry run unless --execute.',
      )
      .argument('[partition:offset...]', 'the records to replay, e.g. 0:42 1:7')
      .option('--all', 'every record in the DLQ topic')
      .option('--topic <topic>', TOPIC_HELP),
  )
    .option('--execute', 'send them (otherwise only print what would be sent)')
    .option('--json', 'print JSON')
    .action((positions: string[], options: ReplayOptions) =>
      runAction(async () => {
        const selection = parseReplaySelection(positions, options, Date.now());
        await withDlq(options, async (admin) => {
          const entries =
            'positions' in selection
              ? await admin.at(selection.positions)
              : (await admin.entries('filter' in selection ? selection.filter : {})).entries;
          const records = entries.map((e) => e.record);
          if (!options.execute) {
            emit(options, { topic: admin.topic, executed: false, selected: records }, () =>
              formatReplayPlan(admin.topic, records),
            );
            return;
          }
          const report = await replayWithProgress(admin, entries);
          emit(options, { topic: admin.topic, executed: true, selected: records.length, ...report }, () =>
            formatReplayReport(admin.topic, records.length, report),
          );
          if (report.failed.length > 0) process.exitCode = 1;
        });
      }),
    );

  dlq
    .command('purge')
    .description(
      'Delete records from the DLQ topic (Kafka deleteRecords): below an offset, or older than a time. Dry run unless --execute.',
    )
    .option(
      '--to-offset <partition:offset...>',
      'delete the records of that partition below that offset (it becomes the first one kept)',
    )
    .option(
      '--all-before <time>',
      'delete, in every partition, the records dead-lettered before this ISO time',
    )
    .option('--topic <topic>', TOPIC_HELP)
    .option('--execute', 'delete them (otherwise only print what would be deleted)')
    .option('--json', 'print JSON')
    .action((options: PurgeOptions) =>
      runAction(async () => {
        const target = parsePurgeTarget(options);
        await withDlq(options, async (admin) => {
          const plan = await admin.planPurge(target);
          const after = options.execute ? await admin.purge(plan) : undefined;
          emit(
            options,
            {
              topic: admin.topic,
              executed: Boolean(options.execute),
              partitions: plan,
              ...(after ? { after } : {}),
            },
            () => formatPurge(admin.topic, plan, after),
          );
        });
      }),
    );
}

/** Replays `entries`, showing progress (a bar on a terminal, plain lines otherwise) on stderr. */
async function replayWithProgress(admin: DlqAdmin, entries: DlqEntry[]) {
  const progress = new Progress('replay', entries.length);
  progress.update(0);
  const report = await admin.replay(entries, {
    onProgress: (done, r) =>
      progress.update(
        done,
        `${r.replayed.length} replayed${r.failed.length ? `, ${r.failed.length} failed` : ''}`,
      ),
  });
  progress.done(`replayed ${report.replayed.length} of ${entries.length} record(s)`);
  return report;
}

/**
 * Runs `action` with a DlqAdmin on the configured brokers and DLQ topic; a DlqAdminError becomes
 * its message (exit 2 for bad input, else 1), a Kafka failure one sentence (exit 1).
 */
async function withDlq(options: TopicOptions, action: (admin: DlqAdmin) => Promise<void>): Promise<void> {
  const config = loadDlqCliConfig(process.env);
  const admin = new DlqAdmin(cliKafka(config), options.topic ?? config.CONSUMER_DLQ_TOPIC);
  try {
    await action(admin);
  } catch (err) {
    if (err instanceof DlqAdminError) throw new CliError(err.message, err.reason === 'bad-input' ? 2 : 1);
    throw kafkaError(err, config);
  } finally {
    await admin.close();
  }
}
