import { KubeConfig } from '@kubernetes/client-node';
import { z } from 'zod';
import { createLogger, parseConfig } from '@shopstream/shared';
import type { Env } from '@shopstream/shared';
import { deletePipelinesAndWait } from './kube/pipeline-deletion.js';

const schema = z.object({
  /** A kubeconfig file; without it the in-cluster service account is used. */
  KUBECONFIG: z.string().min(1).optional(),
  PIPELINE_NAMESPACE: z.string().min(1),
  /** Which pipelines: e.g. the umbrella release's `app.kubernetes.io/instance=<release>`. */
  PIPELINE_SELECTOR: z.string().min(1),
  DELETE_TIMEOUT_SECONDS: z.coerce.number().int().min(1).default(240),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
});

/**
 * `node operator/dist/delete-pipelines.js`, in the operator image: deletes the selected pipelines
 * and exits 0 once the operator has finalized them all, 1 if it has not by the deadline. The
 * umbrella chart's pre-delete hook Job runs it, so it needs no image besides the operator's.
 */
async function run(env: Env): Promise<void> {
  const config = parseConfig(schema, env);
  const log = createLogger({ name: 'delete-pipelines', level: config.LOG_LEVEL });
  const kc = new KubeConfig();
  if (config.KUBECONFIG) kc.loadFromFile(config.KUBECONFIG);
  else kc.loadFromCluster();
  await deletePipelinesAndWait(
    kc,
    {
      namespace: config.PIPELINE_NAMESPACE,
      labelSelector: config.PIPELINE_SELECTOR,
      timeoutMs: config.DELETE_TIMEOUT_SECONDS * 1000,
    },
    log,
  );
  log.info({ namespace: config.PIPELINE_NAMESPACE, selector: config.PIPELINE_SELECTOR }, 'pipelines gone');
}

run(process.env).catch((err: unknown) => {
  process.stderr.write(
    `${JSON.stringify({ level: 'error', msg: 'deleting pipelines failed', err: String(err) })}\n`,
  );
  process.exit(1);
});
