import type { Command } from 'commander';
import { z } from 'zod';
import { parseConfig } from '@shopstream/shared';
import { loadCliConfig } from '../context.js';
import { emit, runAction } from '../output.js';
import { gatherFacts } from '../diagnose/gather.js';
import { redactUrl, renderFindings } from '../diagnose/render.js';
import { diagnose, exitCodeFor } from '../diagnose/rules.js';
import { resolveKubeTarget } from '../pipeline/pipeline-status.js';
import type { PipelineOptions } from '../pipeline/pipeline-status.js';
import { withPipelineOptions } from './pipeline-options.js';

interface DiagnoseOptions extends PipelineOptions {
  group?: string;
  topic?: string;
  json?: boolean;
}

/** The key diagnose reads beyond the CLI's config: the consumer's start position. */
const extraSchema = z.object({ CONSUMER_START_FROM: z.enum(['earliest', 'latest']).default('earliest') });

export function register(program: Command): void {
  withPipelineOptions(program.command('diagnose'))
    .description(
      'Explain in plain sentences why a consumer group is or is not receiving events on a topic, ' +
        'each finding with the command that fixes it. Exit code 0 when nothing is a problem, ' +
        '1 when at least one finding is a problem (or diagnose itself failed, or a kubeconfig was ' +
        'given and the pipeline could not be read), 2 on bad usage.',
    )
    .option('--group <group>', 'consumer group id (default: CONSUMER_GROUP_ID, else product-consumer)')
    .option('--topic <topic>', 'topic (default: CONSUMER_TOPIC, else product.events)')
    .option('--json', 'print {group, topic, problems, warnings, findings, facts} as JSON')
    .action((options: DiagnoseOptions) =>
      runAction(async () => {
        const config = loadCliConfig(process.env);
        const extra = parseConfig(extraSchema, process.env);
        const group = options.group ?? config.CONSUMER_GROUP_ID;
        const topic = options.topic ?? config.CONSUMER_TOPIC;
        const kube = resolveKubeTarget(options, config);
        const facts = await gatherFacts({
          group,
          topic,
          startFrom: extra.CONSUMER_START_FROM,
          brokers: config.KAFKA_BROKERS,
          databaseUrl: config.DATABASE_URL,
          security: config,
          ...(kube ? { kube } : {}),
        });
        const findings = diagnose(facts);
        const count = (s: string) => findings.filter((f) => f.severity === s).length;
        emit(
          options,
          { group, topic, problems: count('problem'), warnings: count('warning'), findings, facts },
          () =>
            renderFindings(
              `shopstream diagnose: group ${group}, topic ${topic} (Kafka ${config.KAFKA_BROKERS.join(',')}, database ${redactUrl(config.DATABASE_URL)}` +
                `${kube ? `, Kubernetes ${kube.server} namespace ${kube.namespace}` : ''})`,
              findings,
            ),
        );
        process.exitCode = exitCodeFor(findings);
      }),
    );
}
