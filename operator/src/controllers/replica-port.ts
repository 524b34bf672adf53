/**
 * A Deployment's replicas, through its scale subresource (kube/deployments.ts): all the operator
 * reads or writes of the relay and consumer Deployments.
 */
export interface ReplicaPort {
  /** spec.replicas, or undefined when the Deployment does not exist. */
  replicas(namespace: string, name: string): Promise<number | undefined>;
  scale(namespace: string, name: string, replicas: number): Promise<void>;
}
