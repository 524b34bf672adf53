import type { Command } from 'commander';
import pg from 'pg';
import { pgOptions } from '@shopstream/shared';
import { ConsumerGroupAdmin } from '@shopstream/operator';
import { loadCliConfig } from '../context.js';
import { CliError, emit, runAction } from '../output.js';
import { cliGroupAdminHandle, cliKafka } from '../kafka-client.js';
import { topicExists } from '../lag/kafka-lag.js';
import { readGroupStatus, readOutboxStatus } from '../status/status-reader.js';
import { formatStatus } from '../status/status-report.js';
import type { StatusReport } from '../status/status-report.js';
import { databaseError, failureMessage, kafkaError } from '../status/unreachable.js';
import { readPipeline, resolveKubeTarget } from '../pipeline/pipeline-status.js';
import type { PipelineOptions } from '../pipeline/pipeline-status.js';
import { withPipelineOptions } from './pipeline-options.js';

interface StatusOptions extends PipelineOptions {
  json?: boolean;
}

/**
 * `shopstream status`: the outbox, the relays and the consumer group at a glance. The database and
 * Kafka are read independently, so with one of them down the other half is still shown (and the
 * exit code is 1). With a kubeconfig the ProductPipeline is a third part, read the same way: an API
 * server that cannot be reached or refuses is one line and exit 1, and no kubeconfig means no
 * pipeline section at all (not an error).
 */
export function register(program: Command): void {
  withPipelineOptions(program.command('status'))
    .description(
      'Outbox counts, oldest pending age, DEAD rows, shard owners, relays and consumer group health.',
    )
    .option('--json', 'print JSON')
    .action((options: StatusOptions) => runAction(() => status(options)));
}

async function status(options: StatusOptions): Promise<void> {
  const config = loadCliConfig(process.env);
  // Before any connection: a bad kubeconfig or namespace is bad usage (exit 2), like a bad env key.
  const kube = resolveKubeTarget(options, config);
  const pool = new pg.Pool(pgOptions(config.DATABASE_URL, { max: 3, applicationName: 'shopstream-cli' }));
  // An idle client losing its server must not crash the process with an unhandled 'error'.
  pool.on('error', () => undefined);
  const groups = new ConsumerGroupAdmin(cliGroupAdminHandle(config));
  const admin = cliKafka(config).admin();
  const group = config.CONSUMER_GROUP_ID;
  const topic = config.CONSUMER_TOPIC;
  try {
    const pipelineRead = kube ? readPipeline(kube, group, topic) : undefined;
    const [outbox, consumerGroup] = await Promise.allSettled([
      readOutboxStatus(pool).catch((err: unknown) => {
        throw databaseError(err, config.DATABASE_URL);
      }),
      (async () => {
        await admin.connect();
        return readGroupStatus(groups, group, topic, await topicExists(admin, topic));
      })().catch((err: unknown) => {
        throw kafkaError(err, config);
      }),
    ]);
    const report: StatusReport = {
      outbox: outbox.status === 'fulfilled' ? outbox.value : { error: failureMessage(outbox.reason) },
      consumerGroup:
        consumerGroup.status === 'fulfilled'
          ? consumerGroup.value
          : { error: failureMessage(consumerGroup.reason) },
      ...(pipelineRead ? { pipeline: await pipelineRead } : {}),
    };
    emit(options, report, () => formatStatus(report));
    const failed = [outbox, consumerGroup].filter((r) => r.status === 'rejected');
    // A bug (not an unreachable dependency) keeps its stack.
    const bug = failed.find((r) => !(r.reason instanceof CliError));
    if (bug) throw bug.reason;
    const messages = failed.map((r) => failureMessage(r.reason));
    if (report.pipeline && !report.pipeline.reachable) messages.push(report.pipeline.error);
    if (messages.length) throw new CliError(messages.join('; '));
  } finally {
    await Promise.allSettled([pool.end(), groups.close(), admin.disconnect()]);
  }
}
