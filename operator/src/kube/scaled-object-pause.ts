import { ApiException, CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import type { ScaledObjectPort } from '../controllers/consumer-hold.js';

interface ScaledObjectItem {
  metadata?: { name?: string; annotations?: Record<string, string> };
  spec?: { scaleTargetRef?: { name?: string; kind?: string } };
}

/**
 * The KEDA ScaledObject that scales a consumer Deployment, found so an offset reset can pause it.
 * RBAC: scaledobjects (keda.sh) list, patch. A cluster without KEDA (404 on the list) has none.
 */
export class ScaledObjectPause implements ScaledObjectPort {
  private readonly api: CustomObjectsApi;

  constructor(kubeConfig: KubeConfig) {
    this.api = kubeConfig.makeApiClient(CustomObjectsApi);
  }

  async targeting(
    namespace: string,
    deployment: string,
  ): Promise<{ name: string; annotations: Record<string, string> } | undefined> {
    let items: ScaledObjectItem[];
    try {
      const list = (await this.api.listNamespacedCustomObject({
        group: 'keda.sh',
        version: 'v1alpha1',
        namespace,
        plural: 'scaledobjects',
      })) as { items?: ScaledObjectItem[] };
      items = list.items ?? [];
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) return undefined;
      throw err;
    }
    const found = items.find(
      (o) =>
        o.spec?.scaleTargetRef?.name === deployment &&
        (o.spec.scaleTargetRef.kind ?? 'Deployment') === 'Deployment',
    );
    return found?.metadata?.name
      ? { name: found.metadata.name, annotations: found.metadata.annotations ?? {} }
      : undefined;
  }

  async annotate(namespace: string, name: string, annotations: Record<string, string | null>): Promise<void> {
    await this.api.patchNamespacedCustomObject(
      {
        group: 'keda.sh',
        version: 'v1alpha1',
        namespace,
        plural: 'scaledobjects',
        name,
        body: { metadata: { annotations } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }
}
