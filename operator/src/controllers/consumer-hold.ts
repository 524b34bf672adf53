import type { HeldConsumer } from './pipeline-types.js';
import type { ReplicaPort } from './replica-port.js';

/** KEDA's own switch: while set, KEDA holds its target at this many replicas and stops scaling it. */
export const KEDA_PAUSED_REPLICAS_ANNOTATION = 'autoscaling.keda.sh/paused-replicas';

/** KEDA ScaledObjects whose scaleTargetRef is a Deployment; none when KEDA is not installed. */
export interface ScaledObjectPort {
  targeting(
    namespace: string,
    deployment: string,
  ): Promise<{ name: string; annotations: Record<string, string> } | undefined>;
  annotate(namespace: string, name: string, annotations: Record<string, string | null>): Promise<void>;
}

export interface HoldDeps {
  deployments: ReplicaPort;
  scaledObjects: ScaledObjectPort;
  event(type: 'Normal' | 'Warning', reason: string, message: string): Promise<void>;
}

/**
 * What a reset will hold, for the status, before anything is scaled: the Deployment's replicas
 * now (what to give back) and the KEDA ScaledObject that scales it, if any. The status is the only
 * record (the operator cannot write Deployments, only their scale), so it must be stored first.
 * @returns undefined when the Deployment does not exist.
 */
export async function holdRecord(
  namespace: string,
  deploymentName: string,
  requestId: string,
  deps: HoldDeps,
): Promise<HeldConsumer | undefined> {
  const replicas = await deps.deployments.replicas(namespace, deploymentName);
  if (replicas === undefined) return undefined;
  const scaledObject = await deps.scaledObjects.targeting(namespace, deploymentName);
  return {
    requestId,
    deployment: deploymentName,
    replicas,
    ...(scaledObject ? { scaledObject: scaledObject.name } : {}),
  };
}

/**
 * Holds at 0 the Deployment of `record`, which the stored status already carries; again if
 * someone scaled it up meanwhile. With a KEDA ScaledObject on the Deployment, KEDA is told to hold
 * it at 0 (paused-replicas) rather than fought over spec.replicas.
 * @returns the record (naming the ScaledObject paused now), or undefined when the Deployment is gone.
 */
export async function holdConsumer(
  namespace: string,
  record: HeldConsumer,
  deps: HoldDeps,
): Promise<HeldConsumer | undefined> {
  const { deployment, requestId } = record;
  const replicas = await deps.deployments.replicas(namespace, deployment);
  if (replicas === undefined) return undefined;
  const scaledObject = await deps.scaledObjects.targeting(namespace, deployment);
  const holding = `reset ${requestId}: holding ${deployment} at 0 (from ${record.replicas})`;
  if (scaledObject) {
    if (scaledObject.annotations[KEDA_PAUSED_REPLICAS_ANNOTATION] !== '0') {
      await deps.scaledObjects.annotate(namespace, scaledObject.name, {
        [KEDA_PAUSED_REPLICAS_ANNOTATION]: '0',
      });
      await deps.event(
        'Normal',
        'ScalingDownConsumers',
        `${holding} by pausing ScaledObject ${scaledObject.name}`,
      );
    }
  } else if (replicas !== 0) {
    await deps.deployments.scale(namespace, deployment, 0);
    await deps.event('Normal', 'ScalingDownConsumers', holding);
  }
  const { scaledObject: _, ...rest } = record;
  return { ...rest, ...(scaledObject ? { scaledObject: scaledObject.name } : {}) };
}

/**
 * Gives back what `held` (the status record of a reset that no longer holds it) took: unpauses
 * the ScaledObject the reset paused, or scales the Deployment back to the recorded replicas while
 * it still sits at 0 — at anything else someone (or this operator, before a status write was lost)
 * has set it since, and that stands. Needs only Kubernetes, so it also runs on deletion, when the
 * consumer entry was removed, and while Kafka is away.
 * @returns whether anything was restored.
 */
export async function releaseConsumer(
  namespace: string,
  held: HeldConsumer,
  deps: HoldDeps,
): Promise<boolean> {
  const { deployment, requestId } = held;
  const replicas = await deps.deployments.replicas(namespace, deployment);
  if (replicas === undefined) return false;
  const scaledObject = await deps.scaledObjects.targeting(namespace, deployment);
  if (scaledObject?.annotations[KEDA_PAUSED_REPLICAS_ANNOTATION] !== undefined) {
    // KEDA scales it back itself; setting replicas too would fight it.
    await deps.scaledObjects.annotate(namespace, scaledObject.name, {
      [KEDA_PAUSED_REPLICAS_ANNOTATION]: null,
    });
    await deps.event(
      'Normal',
      'ReplicasRestored',
      `${deployment} handed back to ScaledObject ${scaledObject.name} after reset ${requestId}`,
    );
    return true;
  }
  if (replicas !== 0 || held.replicas === 0) return false;
  await deps.deployments.scale(namespace, deployment, held.replicas);
  await deps.event(
    'Normal',
    'ReplicasRestored',
    `${deployment} restored to ${held.replicas} replica(s) after reset ${requestId}`,
  );
  return true;
}
