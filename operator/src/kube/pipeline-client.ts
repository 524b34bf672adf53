import { ApiException, CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import type { ProductPipeline, ProductPipelineStatus } from '../controllers/pipeline-types.js';

export const GROUP = 'shopstream.io';
export const VERSION = 'v1alpha1';
export const PLURAL = 'productpipelines';

/**
 * ProductPipeline reads and status writes. RBAC: productpipelines get/list/watch;
 * productpipelines/status patch.
 */
export class PipelineClient {
  private readonly api: CustomObjectsApi;

  constructor(kubeConfig: KubeConfig) {
    this.api = kubeConfig.makeApiClient(CustomObjectsApi);
  }

  /** The current object, or undefined when it is gone (the controller then has nothing to do). */
  async get(namespace: string, name: string): Promise<ProductPipeline | undefined> {
    try {
      return (await this.api.getNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace,
        plural: PLURAL,
        name,
      })) as ProductPipeline;
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) return undefined;
      throw err;
    }
  }

  /** One merge patch of /status per reconcile. */
  async patchStatus(namespace: string, name: string, status: ProductPipelineStatus): Promise<void> {
    await this.api.patchNamespacedCustomObjectStatus(
      { group: GROUP, version: VERSION, namespace, plural: PLURAL, name, body: { status } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }
}
