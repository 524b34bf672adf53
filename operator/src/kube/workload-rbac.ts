import { ApiException } from '@kubernetes/client-node';
import { forbidden } from '../controllers/errors.js';

/** The operator chart's value whose namespaces get the Role with secrets and deployments/scale. */
export const WORKLOAD_NAMESPACES_VALUE = 'rbac.workloadNamespaces';

/**
 * A 403 on a pipeline's Secret or a Deployment's scale, as the error the pipeline reports. The
 * chart grants these per namespace, never cluster-wide, so a pipeline in a namespace it does not
 * list is refused: the message says which namespace and which value grants it. Anything else is
 * returned unchanged.
 */
export function workloadAccessError(
  err: unknown,
  request: { verb: string; resource: 'secrets' | 'deployments/scale'; namespace: string; name: string },
): unknown {
  if (!(err instanceof ApiException && err.code === 403)) return err;
  const { verb, resource, namespace, name } = request;
  return forbidden(
    `403 Forbidden: the operator may not ${verb} ${resource} in namespace ${namespace} (${name}); its chart ` +
      `grants secrets and deployments/scale only in the namespaces of ${WORKLOAD_NAMESPACES_VALUE} ` +
      `(default: the operator's own namespace; with watchNamespace set: that namespace), and ${namespace} ` +
      `lacks that Role: add ${namespace} to ${WORKLOAD_NAMESPACES_VALUE}`,
    err,
  );
}
