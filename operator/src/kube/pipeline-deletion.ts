import { CustomObjectsApi } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '@shopstream/shared';
import type { ProductPipeline } from '../controllers/pipeline-types.js';
import { GROUP, PLURAL, VERSION } from './pipeline-client.js';

export interface PipelineDeletion {
  namespace: string;
  labelSelector: string;
  timeoutMs: number;
  pollMs?: number;
}

/**
 * Deletes the ProductPipelines a label selector picks in one namespace and waits until they are
 * gone, i.e. until the operator's finalizer has run for each. For whatever must stay up until
 * then: the umbrella chart's pre-delete hook runs it so `helm uninstall` does not take the
 * operator and its RBAC away from pipelines that still carry its finalizer.
 * RBAC: productpipelines list, delete in `namespace`.
 * @throws Error naming the pipelines still there (and their finalizers) when `timeoutMs` passes.
 */
export async function deletePipelinesAndWait(
  kc: KubeConfig,
  { namespace, labelSelector, timeoutMs, pollMs = 1000 }: PipelineDeletion,
  log: Logger,
): Promise<void> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const list = async () =>
    (
      (await custom.listNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace,
        plural: PLURAL,
        labelSelector,
      })) as { items: ProductPipeline[] }
    ).items;
  const deadline = Date.now() + timeoutMs;
  for (const p of await list()) {
    if (p.metadata.deletionTimestamp) continue;
    await custom
      .deleteNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace,
        plural: PLURAL,
        name: p.metadata.name,
      })
      .catch((err: unknown) => {
        if ((err as { code?: number }).code !== 404) throw err;
      });
    log.info({ namespace, name: p.metadata.name }, 'pipeline deleted; waiting for its finalizer');
  }
  for (;;) {
    const left = await list();
    if (left.length === 0) return;
    if (Date.now() >= deadline) {
      const names = left.map(
        (p) => `${p.metadata.name} (finalizers: ${(p.metadata.finalizers ?? []).join(', ')})`,
      );
      throw new Error(`pipelines still present after ${timeoutMs} ms: ${names.join('; ')}`);
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
