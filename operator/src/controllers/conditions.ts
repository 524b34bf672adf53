import type { Condition } from './pipeline-types.js';

/** Condition reasons (PascalCase constants, like Strimzi's): what a Ready=False status will say. */
export const Reason = {
  Reconciled: 'Reconciled',
  TopicsReady: 'TopicsReady',
  TopicsNotReady: 'TopicsNotReady',
  Paused: 'Paused',
  InvalidSpec: 'InvalidSpec',
  KafkaUnavailable: 'KafkaUnavailable',
  /** Kafka refused the login or the TLS handshake (credentials, CA, client certificate): retried with backoff. */
  KafkaAuthenticationFailed: 'KafkaAuthenticationFailed',
  /** A Secret (or key) spec.kafka.tls / spec.kafka.authentication names is missing or holds no PEM. */
  KafkaCredentialsMissing: 'KafkaCredentialsMissing',
  KubernetesUnavailable: 'KubernetesUnavailable',
  Forbidden: 'Forbidden',
  PauseAnnotation: 'PauseAnnotation',
  PartitionDecreaseRefused: 'PartitionDecreaseRefused',
} as const;

/**
 * Conditions of one reconcile, metav1.Condition-shaped: every condition carries the generation it
 * describes, and `lastTransitionTime` changes only when the status does.
 */
export class Conditions {
  private readonly byType: Map<string, Condition>;

  constructor(
    private readonly generation: number,
    previous: Condition[] = [],
    private readonly now: () => Date = () => new Date(),
  ) {
    this.byType = new Map(previous.map((c) => [c.type, c]));
  }

  set(type: string, status: Condition['status'], reason: string, message = ''): void {
    const old = this.byType.get(type);
    this.byType.set(type, {
      type,
      status,
      reason,
      message,
      observedGeneration: this.generation,
      lastTransitionTime: old && old.status === status ? old.lastTransitionTime : this.now().toISOString(),
    });
  }

  /** Drops a condition whose concern is no longer in the spec: a stale one would say something false. */
  remove(type: string): void {
    this.byType.delete(type);
  }

  get(type: string): Condition | undefined {
    return this.byType.get(type);
  }

  /** Conditions whose status changed compared to `previous` (for Events on transitions). */
  transitions(previous: Condition[] = []): Condition[] {
    const before = new Map(previous.map((c) => [c.type, c.status]));
    return [...this.byType.values()].filter((c) => before.get(c.type) !== c.status);
  }

  toList(): Condition[] {
    return [...this.byType.values()].sort((a, b) => a.type.localeCompare(b.type));
  }
}
