import { CustomObjectsApi, makeInformer } from '@kubernetes/client-node';
import type { Informer, KubeConfig, KubernetesListObject, ObjectCache } from '@kubernetes/client-node';
import type { Logger } from '@shopstream/shared';
import type { ProductPipeline } from '../controllers/pipeline-types.js';
import { GROUP, PLURAL, VERSION } from './pipeline-client.js';

/** What a reconcile depends on besides the status: spec (generation), annotations, finalizers, deletion. */
const fingerprint = (p: ProductPipeline): string =>
  JSON.stringify([
    p.metadata.generation,
    p.metadata.annotations ?? {},
    p.metadata.finalizers ?? [],
    p.metadata.deletionTimestamp ?? null,
  ]);

/**
 * Watches ProductPipelines (cluster-wide, or in one namespace) and turns every add/update/delete into a key for the work
 * queue (level-based: the event's payload is never trusted). client-node's informer stops on most
 * errors; this one restarts itself with backoff, and a restart relists, which also covers a watch
 * that expired (410 Gone) and changes made while the API server was away.
 */
export class PipelineInformer {
  private informer: (Informer<ProductPipeline> & ObjectCache<ProductPipeline>) | undefined;
  private stopped = true;
  private retryMs = 200;
  private timer: NodeJS.Timeout | undefined;
  private readonly seen = new Map<string, string>();

  constructor(
    private readonly kubeConfig: KubeConfig,
    private readonly onKey: (key: string) => void,
    private readonly log: Logger,
    private readonly scope: { namespace?: string; labelSelector?: string } = {},
  ) {}

  async start(): Promise<void> {
    this.stopped = false;
    const api = this.kubeConfig.makeApiClient(CustomObjectsApi);
    // WATCH_NAMESPACE narrows both the list and the watch; without it the operator sees every namespace.
    // WATCH_SELECTOR narrows both as well, by label.
    const { namespace: ns, labelSelector } = this.scope;
    const informer = makeInformer<ProductPipeline>(
      this.kubeConfig,
      ns ? `/apis/${GROUP}/${VERSION}/namespaces/${ns}/${PLURAL}` : `/apis/${GROUP}/${VERSION}/${PLURAL}`,
      () =>
        (ns
          ? api.listNamespacedCustomObject({
              group: GROUP,
              version: VERSION,
              namespace: ns,
              plural: PLURAL,
              labelSelector,
            })
          : api.listClusterCustomObject({
              group: GROUP,
              version: VERSION,
              plural: PLURAL,
              labelSelector,
            })) as Promise<KubernetesListObject<ProductPipeline>>,
      labelSelector,
    );
    const keyOf = (p: ProductPipeline) => `${p.metadata.namespace}/${p.metadata.name}`;
    const enqueue = (p: ProductPipeline) => {
      this.seen.set(keyOf(p), fingerprint(p));
      this.onKey(keyOf(p));
    };
    informer.on('add', enqueue);
    // Our own status writes come back as updates; reacting to them would loop (status → event →
    // reconcile → status). Only what the controller acts on triggers a reconcile (controller-runtime's
    // GenerationChanged + annotation predicates); timers handle the rest.
    informer.on('update', (p) => {
      if (this.seen.get(keyOf(p)) !== fingerprint(p)) enqueue(p);
    });
    informer.on('delete', (p) => {
      this.seen.delete(keyOf(p));
      this.onKey(keyOf(p));
    });
    informer.on('connect', () => {
      this.retryMs = 200;
      // After a (re)connect the list is fresh: resync every object we know.
      for (const p of informer.list()) enqueue(p);
    });
    informer.on('error', (err: unknown) => {
      if (this.stopped) return;
      this.log.warn({ err: String(err), retryInMs: this.retryMs }, 'pipeline watch failed; restarting');
      this.timer = setTimeout(() => void informer.start().catch(() => undefined), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 30_000);
    });
    this.informer = informer;
    await informer.start().catch((err: unknown) => {
      this.log.warn({ err: String(err) }, 'pipeline watch could not start; retrying');
      this.timer = setTimeout(() => void informer.start().catch(() => undefined), this.retryMs);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.informer?.stop();
  }
}
