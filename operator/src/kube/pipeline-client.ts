import {
  ApiException,
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import type { ProductPipeline, ProductPipelineStatus } from '../controllers/pipeline-types.js';

export const GROUP = 'shopstream.io';
export const VERSION = 'v1alpha1';
export const PLURAL = 'productpipelines';

/**
 * ProductPipeline reads, status writes, finalizers and Events. RBAC: productpipelines get, list,
 * watch, patch; productpipelines/status patch; events (core) create.
 */
export class PipelineClient {
  private readonly api: CustomObjectsApi;
  private readonly core: CoreV1Api;

  constructor(kubeConfig: KubeConfig) {
    this.api = kubeConfig.makeApiClient(CustomObjectsApi);
    this.core = kubeConfig.makeApiClient(CoreV1Api);
  }

  /** Sets the pipeline's finalizers to `finalizers` (merge patch: the list is replaced whole). */
  async setFinalizers(pipeline: ProductPipeline, finalizers: string[]): Promise<void> {
    const { namespace, name } = pipeline.metadata;
    await this.api.patchNamespacedCustomObject(
      {
        group: GROUP,
        version: VERSION,
        namespace,
        plural: PLURAL,
        name,
        // resourceVersion makes this conditional: a concurrent change fails it, and the next reconcile retries.
        body: {
          metadata: {
            finalizers,
            resourceVersion: (pipeline.metadata as { resourceVersion?: string }).resourceVersion,
          },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }

  /** A core/v1 Event on the pipeline, as kubectl describe shows them. */
  async recordEvent(
    pipeline: ProductPipeline,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
  ): Promise<void> {
    const { namespace, name, uid } = pipeline.metadata;
    const now = new Date();
    await this.core.createNamespacedEvent({
      namespace,
      body: {
        metadata: { generateName: `${name}.`, namespace },
        involvedObject: { apiVersion: `${GROUP}/${VERSION}`, kind: 'ProductPipeline', name, namespace, uid },
        type,
        reason,
        message: message.slice(0, 1024),
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
        source: { component: 'shopstream-operator' },
        reportingComponent: 'shopstream-operator',
      },
    });
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
