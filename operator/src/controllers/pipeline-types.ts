/** The ProductPipeline resource (DESIGN §5), as the operator reads and writes it. */
export interface TopicSpec {
  name: string;
  partitions: number;
  replicas?: number;
  config?: Record<string, string>;
  deletionPolicy?: 'Retain' | 'Delete';
}

/** A key of a Secret in the pipeline's namespace; `key` has a CRD default. */
export interface SecretKeyRef {
  name: string;
  key?: string;
}

/** TLS to the brokers: present means on; without caSecretRef the system's CAs are trusted. */
export interface KafkaTlsSpec {
  /** Strimzi's `<cluster>-cluster-ca-cert` has the CA under `ca.crt` (the default key). */
  caSecretRef?: SecretKeyRef;
}

/** Who the operator is to Kafka, from Secrets shaped like a Strimzi KafkaUser's. */
export interface KafkaAuthenticationSpec {
  type: 'scram-sha-512' | 'tls';
  /** scram-sha-512: the SCRAM user; tls: optional, only named in messages. */
  username?: string;
  /** scram-sha-512: the user's Secret and its key (default `password`). */
  passwordSecretRef?: SecretKeyRef;
  /** tls: the user's Secret with `user.crt` and `user.key`. */
  certificateSecretRef?: { name: string };
}

export interface ProductPipelineSpec {
  kafka: {
    clusterRef?: { name: string; namespace?: string };
    bootstrapServers: string;
    topicManagement?: 'Strimzi' | 'Direct';
    tls?: KafkaTlsSpec;
    authentication?: KafkaAuthenticationSpec;
  };
  topics: TopicSpec[];
  relay?: RelaySpec;
  consumers?: ConsumerSpec[];
}

export interface RelayScalingSpec {
  mode?: 'Operator' | 'Keda' | 'Disabled';
  minReplicas?: number;
  maxReplicas?: number;
  targetPendingPerReplica?: number;
  maxOldestPendingAgeSeconds?: number;
  scaleDownStabilizationSeconds?: number;
  pollIntervalSeconds?: number;
}

export interface RelaySpec {
  deploymentRef?: { name: string };
  databaseSecretRef?: { name: string; key: string };
  scaling?: RelayScalingSpec;
}

/** Where to move a consumer group, like kafka-consumer-groups --reset-offsets. */
export type ResetTarget =
  | { earliest: true }
  | { latest: true }
  | { datetime: string }
  | { duration: string }
  | { offset: number }
  | { offsets: { topic?: string; partition: number; offset: number }[] }
  | { shiftBy: number };

export interface OffsetResetSpec {
  requestId: string;
  to: ResetTarget;
  mode?: 'DryRun' | 'Execute';
  /** How long Execute waits for the group to become Empty before it gives up and restores the replicas. */
  timeoutSeconds?: number;
}

export interface ConsumerSpec {
  groupId: string;
  deploymentRef?: { name: string };
  topics: string[];
  offsetReset?: OffsetResetSpec;
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  /** Optional in metav1.Condition (and the CRD); the operator always sets it. */
  observedGeneration?: number;
  lastTransitionTime: string;
}

export interface TopicStatus {
  name: string;
  ready: boolean;
  partitions: number;
  topicId?: string;
}

export interface RelayStatus {
  pendingEvents?: number;
  oldestPendingAgeSeconds?: number;
  /** PENDING rows held behind a DEAD row of their product (not in pendingEvents). */
  blockedEvents?: number;
  /** PENDING rows waiting for a retry time, theirs or an earlier row's (not in pendingEvents). */
  retryingEvents?: number;
  desiredReplicas?: number;
  currentReplicas?: number;
  lastScaleTime?: string;
}

export interface PartitionReset {
  topic: string;
  partition: number;
  /** The group's committed offset before the reset; null (absent once stored in the status) when it had none. */
  oldOffset?: string | null;
  newOffset: string;
}

export interface ResetRecord {
  requestId: string;
  mode: 'DryRun' | 'Execute';
  completedAt: string;
  partitions: PartitionReset[];
}

/**
 * What an Execute holds down, recorded before the first scale-down: with it, a consumer entry or a
 * whole pipeline removed mid-reset still tells the operator which replicas to give back.
 */
export interface HeldConsumer {
  /** The reset holding it. */
  requestId: string;
  deployment: string;
  /** spec.replicas before the hold. */
  replicas: number;
  /** A KEDA ScaledObject targeting the Deployment is paused instead (paused-replicas "0"). */
  scaledObject?: string;
}

/** An Execute in progress: where a new leader picks the procedure up. */
export interface ResetInProgress {
  requestId: string;
  /**
   * Validating: plan and probes before anything is scaled; ScalingDown: held, waiting for the group
   * to empty; WritingOffsets: plan fixed, offsets being written.
   */
  phase: 'Validating' | 'ScalingDown' | 'WritingOffsets';
  /** The one deadline (timeoutSeconds) of every phase is measured from here. */
  startedAt: string;
  partitions?: PartitionReset[];
  /** Partitions Kafka has confirmed written so far (a commit interrupted part-way). */
  written?: PartitionReset[];
  /** The last error a phase is retrying, so the status says why it waits. */
  lastError?: string;
}

export interface ResetHistoryEntry {
  requestId: string;
  mode: 'DryRun' | 'Execute';
  outcome: 'Succeeded' | 'Failed';
  at: string;
  /** Failed only: the condition reason and message. */
  reason?: string;
  message?: string;
  /** Failed only: exactly the partitions written before it failed (none = offsets untouched). */
  partitionsWritten?: PartitionReset[];
}

export interface ConsumerStatus {
  groupId: string;
  /** Kafka's group state (Empty, Stable, PreparingRebalance, ..., Dead = no such group) or Unknown. */
  state: string;
  lag?: number;
  members?: number;
  lastReset?: ResetRecord;
  resetInProgress?: ResetInProgress | null;
  /** Recorded before the first scale-down, cleared once the replicas are given back. */
  heldForReset?: HeldConsumer;
  /** The requests already handled (newest first, bounded): a requestId in here never runs again. */
  resetHistory?: ResetHistoryEntry[];
}

export interface ProductPipelineStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  topics?: TopicStatus[];
  relay?: RelayStatus | null;
  consumers?: ConsumerStatus[];
}

export interface ProductPipeline {
  apiVersion: string;
  kind: 'ProductPipeline';
  metadata: {
    name: string;
    namespace: string;
    generation?: number;
    uid?: string;
    annotations?: Record<string, string>;
    resourceVersion?: string;
    deletionTimestamp?: Date;
    finalizers?: string[];
  };
  spec: ProductPipelineSpec;
  status?: ProductPipelineStatus;
}

/** Records a core/v1 Event on a pipeline (best effort: callers ignore its failure). */
export type RecordEvent = (
  pipeline: ProductPipeline,
  type: 'Normal' | 'Warning',
  reason: string,
  message: string,
) => Promise<void>;
