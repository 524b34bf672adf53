import type { Command } from 'commander';

/** The options of every command that reads the ProductPipeline (status, diagnose); env keys in context.ts. */
export function withPipelineOptions(command: Command): Command {
  return command
    .option(
      '--kubeconfig <path>',
      'read the ProductPipeline through this kubeconfig (`in-cluster`: the pod service account; default: SHOPSTREAM_KUBECONFIG, else KUBECONFIG; none: the pipeline is not read)',
    )
    .option(
      '--namespace <namespace>',
      "the pipeline's namespace (default: SHOPSTREAM_NAMESPACE, else the kubeconfig context's, else default)",
    )
    .option(
      '--pipeline <name>',
      'the ProductPipeline (default: SHOPSTREAM_PIPELINE, else the only one in the namespace naming the group, else the topic)',
    );
}
