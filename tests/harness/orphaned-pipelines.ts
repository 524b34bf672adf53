import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';

const pipelines = { group: 'shopstream.io', version: 'v1alpha1', plural: 'productpipelines' };

/**
 * Takes the finalizer off every ProductPipeline left in a Terminating namespace. A test that
 * deletes its namespace after stopping its operator leaves the pipelines' finalizer with nobody to
 * remove it, and the namespace Terminating for good: dozens of them after a run, which the
 * controller-manager's namespace controller keeps retrying. Run before a test file starts, when no
 * operator of an earlier file is running any more, so every such pipeline is an orphan.
 * @returns how many pipelines it released.
 */
export async function releaseOrphanedPipelines(kc: KubeConfig): Promise<number> {
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const terminating = new Set(
    (await core.listNamespace()).items
      .filter((ns) => ns.status?.phase === 'Terminating')
      .map((ns) => ns.metadata!.name!),
  );
  if (!terminating.size) return 0;
  const list = (await custom.listClusterCustomObject(pipelines).catch(() => ({ items: [] }))) as {
    items: { metadata: { name: string; namespace: string; finalizers?: string[] } }[];
  };
  let released = 0;
  for (const p of list.items) {
    if (!terminating.has(p.metadata.namespace) || !p.metadata.finalizers?.length) continue;
    await custom
      .patchNamespacedCustomObject(
        {
          ...pipelines,
          namespace: p.metadata.namespace,
          name: p.metadata.name,
          body: { metadata: { finalizers: null } },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      )
      .then(() => released++)
      .catch(() => undefined); // gone meanwhile
  }
  return released;
}
