import type { ErrorClass, PartitionLag } from '@shopstream/shared';
import type { PipelineRead } from '../pipeline/pipeline-view.js';

/**
 * Everything `diagnose` looks at, gathered once by the adapters (kafka-facts.ts, outbox-facts.ts)
 * and then judged by the pure rules (rules.ts): the rules never talk to Kafka or PostgreSQL, so
 * every situation can be written down as plain data in a unit test.
 */
export interface DiagnoseFacts {
  group: string;
  topic: string;
  /** Where a consumer of this group starts when the group has no committed offset (CONSUMER_START_FROM). */
  startFrom: 'earliest' | 'latest';
  brokers: string[];
  kafka: KafkaFacts | Unreachable;
  outbox: OutboxFacts | Unreachable;
  /**
   * The ProductPipeline behind the group, read only when a kubeconfig is given (absent otherwise):
   * who owns the relay replicas, whether a reset holds the consumers, its conditions.
   */
  pipeline?: PipelineRead;
  /** When the facts were read: the rules compare reset deadlines with it. */
  now?: string;
}

export interface Unreachable {
  reachable: false;
  error: string;
}

export interface KafkaFacts {
  reachable: true;
  /** Absent when the topic does not exist. Per partition: committed offset, log start/end, lag. */
  partitions: PartitionLag[] | null;
  group: GroupFacts;
  /**
   * Other groups whose members are assigned partitions of the topic right now: a hint when the
   * group asked about is not the one that consumes. Gathered only when the group has no member on
   * the topic (it costs a describe of every group).
   */
  otherGroupsOnTopic: string[];
}

export interface GroupFacts {
  /** Kafka's state: Stable, Empty, PreparingRebalance, CompletingRebalance, or Dead (unknown). */
  state: string;
  members: GroupMember[];
}

export interface GroupMember {
  memberId: string;
  clientId: string;
  clientHost: string;
  /** Topic → partitions assigned to this member (empty while a rebalance is under way). */
  assigned: Record<string, number[]>;
  /** Topics the member subscribed to (its join metadata). */
  subscribed: string[];
}

export interface OutboxFacts {
  reachable: true;
  /** False when the outbox tables are missing: the database was never migrated. */
  migrated: boolean;
  /** PENDING rows of this topic, blocked ones included. */
  pending: number;
  /** PENDING rows of this topic held behind a DEAD row of their product (blockedByDeadSql). */
  blocked: number;
  dead: number;
  skipped: number;
  /** PENDING rows that failed at least once and wait for a retry. */
  retrying: number;
  /** Age of the oldest PENDING row a relay can publish (not blocked); null when there is none. */
  oldestPendingAgeSeconds: number | null;
  /** The newest error recorded on a PENDING row of this topic, if any. */
  lastPendingError: string | null;
  /** DEAD rows of this topic grouped by error class, largest group first; together they are `dead`. */
  deadGroups: DeadGroup[];
  /** PENDING rows of this topic in shards that no relay holds with a live lease. */
  pendingInUnownedShards: number;
  relays: RelayMember[];
  /** Events per topic among unpublished rows and rows published in the last hour. */
  recentTopics: { topic: string; events: number }[];
}

/** The DEAD rows of one topic that share an error class: one cause, one finding, one fix. */
export interface DeadGroup {
  errorClass: ErrorClass;
  /** DEAD rows in the group. */
  events: number;
  /** Distinct products among them. */
  products: number;
  /** The oldest few, in commit order. */
  sampleEventIds: string[];
  sampleProductIds: string[];
  /** The oldest row of the group, spelled out when it is the only one. */
  first: { id: string; productId: string; eventType: string; aggregateVersion: number; attempts: number };
  /** The error recorded on the newest row of the group. */
  lastError: string | null;
  /** PENDING rows held behind a DEAD row of this group (of the same product, committed after it). */
  heldBack: number;
}

export interface RelayMember {
  owner: string;
  live: boolean;
  /** Seconds since its lease ran out (negative: seconds it still has). */
  leaseExpiredSecondsAgo: number;
  /** Shards it holds with a live lease. */
  shards: number;
}
