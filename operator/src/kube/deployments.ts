import { ApiException, AppsV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import type { ReplicaPort } from '../controllers/replica-port.js';
import { workloadAccessError } from './workload-rbac.js';

/**
 * The replicas of the Deployments the operator scales (relay, consumers), only ever through the
 * scale subresource: the operator never reads or writes a Deployment object, and keeps its own
 * bookkeeping (an offset reset's hold) in the pipeline's status. RBAC: deployments/scale get, patch,
 * in the namespaces of rbac.workloadNamespaces (a 403 says so: workload-rbac.ts).
 */
export class Deployments implements ReplicaPort {
  private readonly apps: AppsV1Api;

  constructor(kubeConfig: KubeConfig) {
    this.apps = kubeConfig.makeApiClient(AppsV1Api);
  }

  async replicas(namespace: string, name: string): Promise<number | undefined> {
    try {
      const scale = await this.apps.readNamespacedDeploymentScale({ namespace, name });
      // Scale's spec.replicas is omitempty: absent means 0.
      return scale.spec?.replicas ?? 0;
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) return undefined;
      throw workloadAccessError(err, { verb: 'get', resource: 'deployments/scale', namespace, name });
    }
  }

  async scale(namespace: string, name: string, replicas: number): Promise<void> {
    try {
      await this.apps.patchNamespacedDeploymentScale(
        { namespace, name, body: { spec: { replicas } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    } catch (err) {
      throw workloadAccessError(err, { verb: 'patch', resource: 'deployments/scale', namespace, name });
    }
  }
}
