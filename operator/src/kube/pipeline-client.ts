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
 * A conditional write of a ProductPipeline was refused because the object changed since it was
 * read. Not a failure: the key is reconciled again from a fresh read.
 */
export class StaleWriteError extends Error {
  override readonly name = 'StaleWriteError';
}

const resourceVersionOf = (p: ProductPipeline): string | undefined => p.metadata.resourceVersion;

async function fenced(pipeline: ProductPipeline, what: string, write: () => Promise<unknown>): Promise<void> {
  try {
    await write();
  } catch (err) {
    if (!(err instanceof ApiException && err.code === 409)) throw err;
    const { namespace, name } = pipeline.metadata;
    throw new StaleWriteError(
      `${what} of ${namespace}/${name} not written: changed since resourceVersion ${resourceVersionOf(pipeline)}`,
      { cause: err },
    );
  }
}

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
    await fenced(pipeline, 'finalizers', () =>
      this.api.patchNamespacedCustomObject(
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
              resourceVersion: resourceVersionOf(pipeline),
            },
          },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
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

  /**
   * One merge patch of /status per reconcile, conditional on the resourceVersion of `pipeline` (the
   * object the status was computed from): a status computed from a stale read — by a replica that
   * lost the lease, or before a spec change — is refused rather than written over a newer one.
   * @throws StaleWriteError when the object changed since it was read (409).
   */
  async patchStatus(pipeline: ProductPipeline, status: ProductPipelineStatus): Promise<void> {
    const { namespace, name } = pipeline.metadata;
    await fenced(pipeline, 'status', () =>
      this.api.patchNamespacedCustomObjectStatus(
        {
          group: GROUP,
          version: VERSION,
          namespace,
          plural: PLURAL,
          name,
          body: { metadata: { resourceVersion: resourceVersionOf(pipeline) }, status },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    );
  }
}
