import { KubernetesObjectApi, PatchStrategy } from '@kubernetes/client-node';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import type { ProductPipeline } from '../controllers/pipeline-types.js';
import type { ScalingPolicy } from '../controllers/relay-scaling.js';
import { PENDING_COUNT_SQL } from '../db/outbox-backlog.js';
import { GROUP, VERSION } from './pipeline-client.js';
import { FIELD_MANAGER } from './strimzi-topics.js';

const KEDA_API = 'keda.sh/v1alpha1';

/** Name of the ScaledObject and TriggerAuthentication for a pipeline's relay. */
export const kedaObjectName = (pipeline: ProductPipeline): string => `${pipeline.metadata.name}-relay`;

function metadataFor(pipeline: ProductPipeline, name: string) {
  const { namespace, uid } = pipeline.metadata;
  return {
    name,
    namespace,
    labels: {
      'app.kubernetes.io/managed-by': FIELD_MANAGER,
      'shopstream.io/pipeline': `${namespace}.${pipeline.metadata.name}`,
    },
    ...(uid
      ? {
          ownerReferences: [
            {
              apiVersion: `${GROUP}/${VERSION}`,
              kind: 'ProductPipeline',
              name: pipeline.metadata.name,
              uid,
              controller: true,
              blockOwnerDeletion: true,
            },
          ],
        }
      : {}),
  };
}

/**
 * The KEDA objects for `mode: Keda` (pure): a TriggerAuthentication that hands KEDA the outbox
 * database URL from the pipeline's secret, and a ScaledObject whose postgresql trigger polls the
 * same pending count the operator reads, with the same target per replica, bounds, poll interval
 * and scale-down window. KEDA (its HPA) then owns the relay's replicas; the operator never does.
 * What KEDA cannot express: the operator's extra replica for an old backlog.
 */
export function desiredKedaObjects(
  pipeline: ProductPipeline,
  policy: ScalingPolicy,
): [KubernetesObject, KubernetesObject] {
  const relay = pipeline.spec.relay;
  const name = kedaObjectName(pipeline);
  const auth = {
    apiVersion: KEDA_API,
    kind: 'TriggerAuthentication',
    metadata: metadataFor(pipeline, name),
    spec: {
      secretTargetRef: [
        {
          parameter: 'connection',
          name: relay?.databaseSecretRef?.name ?? '',
          key: relay?.databaseSecretRef?.key ?? '',
        },
      ],
    },
  };
  const scaledObject = {
    apiVersion: KEDA_API,
    kind: 'ScaledObject',
    metadata: metadataFor(pipeline, name),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: relay?.deploymentRef?.name ?? '' },
      pollingInterval: policy.pollIntervalSeconds,
      minReplicaCount: policy.minReplicas,
      maxReplicaCount: policy.maxReplicas,
      advanced: {
        horizontalPodAutoscalerConfig: {
          behavior: { scaleDown: { stabilizationWindowSeconds: policy.scaleDownStabilizationSeconds } },
        },
      },
      triggers: [
        {
          type: 'postgresql',
          name: 'outbox-pending',
          metricType: 'AverageValue',
          metadata: {
            query: PENDING_COUNT_SQL,
            targetQueryValue: String(policy.targetPendingPerReplica),
            activationTargetQueryValue: '0',
          },
          authenticationRef: { name },
        },
      ],
    },
  };
  return [auth, scaledObject];
}

/**
 * Applies or removes the KEDA objects (server-side apply, field manager shopstream-operator). RBAC: scaledobjects and
 * triggerauthentications (keda.sh) create, patch, delete; discovery (/apis/keda.sh/*) get.
 */
export class KedaScaledObjects {
  private readonly objects: KubernetesObjectApi;
  /** Pipelines (uid) whose KEDA objects are known to be gone: remove() is then free. */
  private readonly absent = new Set<string>();

  constructor(kubeConfig: KubeConfig) {
    this.objects = KubernetesObjectApi.makeApiClient(kubeConfig);
  }

  async apply(pipeline: ProductPipeline, policy: ScalingPolicy): Promise<void> {
    this.absent.delete(pipeline.metadata.uid ?? '');
    for (const object of desiredKedaObjects(pipeline, policy)) {
      await this.objects.patch(
        object,
        undefined,
        undefined,
        FIELD_MANAGER,
        true,
        PatchStrategy.ServerSideApply,
      );
    }
  }

  /** Deletes the pipeline's KEDA objects, if any (mode changed away from Keda). A cluster without KEDA has none. */
  async remove(pipeline: ProductPipeline): Promise<void> {
    const uid = pipeline.metadata.uid ?? '';
    if (this.absent.has(uid)) return;
    for (const kind of ['ScaledObject', 'TriggerAuthentication']) {
      await this.objects
        .delete({
          apiVersion: KEDA_API,
          kind,
          metadata: { name: kedaObjectName(pipeline), namespace: pipeline.metadata.namespace },
        })
        .catch((err: unknown) => {
          const code = (err as { code?: number }).code;
          // 404: nothing there, or KEDA's API is not installed at all.
          if (code !== 404) throw err;
        });
    }
    this.absent.add(uid);
  }
}
