import { ApiException, AppsV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';

export interface DeploymentView {
  /** spec.replicas (the scale subresource's view of it). */
  replicas: number;
  annotations: Record<string, string>;
}

/**
 * The Deployments the operator scales (relay, consumers): replicas go through the scale
 * subresource, the operator's bookkeeping through annotations. RBAC: deployments get, patch;
 * deployments/scale patch (the scale is never read: spec.replicas comes with the Deployment).
 */
export class Deployments {
  private readonly apps: AppsV1Api;

  constructor(kubeConfig: KubeConfig) {
    this.apps = kubeConfig.makeApiClient(AppsV1Api);
  }

  /** The Deployment, or undefined when it does not exist. */
  async get(namespace: string, name: string): Promise<DeploymentView | undefined> {
    try {
      const d = await this.apps.readNamespacedDeployment({ namespace, name });
      return { replicas: d.spec?.replicas ?? 1, annotations: d.metadata?.annotations ?? {} };
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) return undefined;
      throw err;
    }
  }

  async scale(namespace: string, name: string, replicas: number): Promise<void> {
    await this.apps.patchNamespacedDeploymentScale(
      { namespace, name, body: { spec: { replicas } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }

  /** Sets (string) or removes (null) annotations, leaving the others alone. */
  async annotate(namespace: string, name: string, annotations: Record<string, string | null>): Promise<void> {
    await this.apps.patchNamespacedDeployment(
      { namespace, name, body: { metadata: { annotations } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }
}
