import type { HeldConsumer } from './pipeline-types.js';

/** On the consumer Deployment while a reset holds it at 0 replicas: which request, and what to restore. */
export const RESET_REQUEST_ANNOTATION = 'shopstream.io/offset-reset-request';
export const RESET_REPLICAS_ANNOTATION = 'shopstream.io/offset-reset-replicas';
/** KEDA's own switch: while set, KEDA holds its target at this many replicas and stops scaling it. */
export const KEDA_PAUSED_REPLICAS_ANNOTATION = 'autoscaling.keda.sh/paused-replicas';

export type DeploymentView = { replicas: number; annotations: Record<string, string> };

export interface ConsumerDeploymentPort {
  get(namespace: string, name: string): Promise<DeploymentView | undefined>;
  scale(namespace: string, name: string, replicas: number): Promise<void>;
  annotate(namespace: string, name: string, annotations: Record<string, string | null>): Promise<void>;
}

/** KEDA ScaledObjects whose scaleTargetRef is a Deployment; none when KEDA is not installed. */
export interface ScaledObjectPort {
  targeting(
    namespace: string,
    deployment: string,
  ): Promise<{ name: string; annotations: Record<string, string> } | undefined>;
  annotate(namespace: string, name: string, annotations: Record<string, string | null>): Promise<void>;
}

export interface HoldDeps {
  deployments: ConsumerDeploymentPort;
  scaledObjects: ScaledObjectPort;
  event(type: 'Normal' | 'Warning', reason: string, message: string): Promise<void>;
}

/**
 * Holds a consumer Deployment at 0 for `requestId`. The record goes on the Deployment first (the
 * caller also puts the returned record in the status): whatever happens next, a leader can find
 * what to give back. With a KEDA ScaledObject on the Deployment, KEDA is told to hold it at 0
 * (paused-replicas) rather than fought over spec.replicas.
 * @returns undefined when the Deployment does not exist.
 */
export async function holdConsumer(
  namespace: string,
  deploymentName: string,
  requestId: string,
  deps: HoldDeps,
): Promise<HeldConsumer | undefined> {
  const deployment = await deps.deployments.get(namespace, deploymentName);
  if (!deployment) return undefined;
  const heldAlready = deployment.annotations[RESET_REQUEST_ANNOTATION] === requestId;
  const replicas = heldAlready
    ? Number(deployment.annotations[RESET_REPLICAS_ANNOTATION] ?? deployment.replicas)
    : deployment.replicas;
  const scaledObject = await deps.scaledObjects.targeting(namespace, deploymentName);
  if (!heldAlready) {
    await deps.deployments.annotate(namespace, deploymentName, {
      [RESET_REQUEST_ANNOTATION]: requestId,
      [RESET_REPLICAS_ANNOTATION]: String(replicas),
    });
    await deps.event(
      'Normal',
      'ScalingDownConsumers',
      `reset ${requestId}: holding ${deploymentName} at 0 (from ${replicas})${scaledObject ? ` by pausing ScaledObject ${scaledObject.name}` : ''}`,
    );
  }
  if (scaledObject) {
    if (scaledObject.annotations[KEDA_PAUSED_REPLICAS_ANNOTATION] !== '0')
      await deps.scaledObjects.annotate(namespace, scaledObject.name, {
        [KEDA_PAUSED_REPLICAS_ANNOTATION]: '0',
      });
  } else if (deployment.replicas !== 0) {
    await deps.deployments.scale(namespace, deploymentName, 0);
  }
  return {
    requestId,
    deployment: deploymentName,
    replicas,
    ...(scaledObject ? { scaledObject: scaledObject.name } : {}),
  };
}

/**
 * Gives back what a reset other than `openExecute` holds on `deploymentName`: from the
 * Deployment's annotation, or — when that is gone but the status still says held and the
 * Deployment sits at 0 — from the status record. Needs only Kubernetes, so it also runs on
 * deletion, when the consumer entry was removed, and while Kafka is away.
 * @returns whether anything was restored.
 */
export async function releaseConsumer(
  namespace: string,
  deploymentName: string,
  openExecute: string | undefined,
  recorded: HeldConsumer | undefined,
  deps: HoldDeps,
): Promise<boolean> {
  const deployment = await deps.deployments.get(namespace, deploymentName);
  if (!deployment) return false;
  const annotated = deployment.annotations[RESET_REQUEST_ANNOTATION];
  const heldFor = annotated ?? (deployment.replicas === 0 ? recorded?.requestId : undefined);
  if (heldFor === undefined || heldFor === openExecute) return false;
  const replicas = Number(
    annotated !== undefined
      ? (deployment.annotations[RESET_REPLICAS_ANNOTATION] ?? recorded?.replicas ?? 1)
      : recorded!.replicas,
  );
  const scaledObject = await deps.scaledObjects.targeting(namespace, deploymentName);
  if (scaledObject?.annotations[KEDA_PAUSED_REPLICAS_ANNOTATION] !== undefined) {
    // KEDA scales it back itself; setting replicas too would fight it.
    await deps.scaledObjects.annotate(namespace, scaledObject.name, {
      [KEDA_PAUSED_REPLICAS_ANNOTATION]: null,
    });
  } else {
    await deps.deployments.scale(namespace, deploymentName, replicas);
  }
  if (annotated !== undefined)
    await deps.deployments.annotate(namespace, deploymentName, {
      [RESET_REQUEST_ANNOTATION]: null,
      [RESET_REPLICAS_ANNOTATION]: null,
    });
  await deps.event(
    'Normal',
    'ReplicasRestored',
    scaledObject
      ? `${deploymentName} handed back to ScaledObject ${scaledObject.name} after reset ${heldFor}`
      : `${deploymentName} restored to ${replicas} replica(s) after reset ${heldFor}`,
  );
  return true;
}
