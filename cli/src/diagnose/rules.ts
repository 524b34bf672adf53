import type { ErrorClass } from '@shopstream/shared';
import type { DeadGroup, DiagnoseFacts, GroupMember, KafkaFacts, OutboxFacts } from './facts.js';
import { relayOwnedByPipeline } from '../pipeline/pipeline-view.js';
import type { ConsumerView, PipelineView } from '../pipeline/pipeline-view.js';

export type Severity = 'problem' | 'warning' | 'ok';

/** One conclusion: a plain sentence naming the group, topic and numbers, and the command that fixes it. */
export interface Finding {
  id: FindingId;
  severity: Severity;
  sentence: string;
  fix: string | null;
  /** For a DEAD finding (--json): the group of DEAD rows it is about. */
  dead?: DeadGroup;
}

export type FindingId =
  | 'kafka-unreachable'
  | 'topic-missing'
  | 'topic-empty'
  | 'offsets-at-log-end'
  | 'group-unknown'
  | 'no-members'
  | 'members-on-other-topic'
  | 'group-rebalancing'
  | 'database-unreachable'
  | 'database-not-migrated'
  | 'relay-not-running'
  | 'pending-unowned-shards'
  | 'pending-stuck'
  | 'dead-row'
  | 'outbox-other-topic'
  | 'pipeline-unreadable'
  | 'pipeline-not-found'
  | 'pipeline-condition-false'
  | 'held-by-reset'
  | 'reset-in-progress'
  | 'flowing';

/** A PENDING backlog older than this, with relays alive, means they are not keeping up or failing. */
export const STUCK_PENDING_SECONDS = 60;

const RANK: Record<Severity, number> = { problem: 0, warning: 1, ok: 2 };

/**
 * Why a consumer of `facts.group` on `facts.topic` does or does not receive events: problems first
 * (each stops events from reaching the consumer), then warnings, then — only when nothing is a
 * problem — one 'ok' finding saying that messages flow and how far behind the group is.
 */
export function diagnose(facts: DiagnoseFacts): Finding[] {
  const findings = [...kafkaFindings(facts), ...outboxFindings(facts), ...pipelineFindings(facts)];
  // An unreadable pipeline is a problem of diagnose's view, not of the flow: say what flows anyway.
  if (!findings.some((f) => f.severity === 'problem' && f.id !== 'pipeline-unreadable'))
    findings.push(flowing(facts));
  // Stable sort: within a severity, the order above is root cause first (Kafka, then outbox).
  return findings.sort((a, b) => RANK[a.severity] - RANK[b.severity]);
}

/** 0 when no finding is a problem, 1 otherwise: scripts can gate on `shopstream diagnose`. */
export const exitCodeFor = (findings: Finding[]): number =>
  findings.some((f) => f.severity === 'problem') ? 1 : 0;

function kafkaFindings(f: DiagnoseFacts): Finding[] {
  const { group, topic } = f;
  const k = f.kafka;
  if (!k.reachable) {
    return [
      {
        id: 'kafka-unreachable',
        severity: 'problem',
        sentence: `Kafka at ${f.brokers.join(',')} cannot be reached (${k.error}): no consumer can read ${topic} and no relay can publish to it.`,
        fix: 'npm run infra -- up',
      },
    ];
  }
  const out: Finding[] = [];
  const members = k.group.members;
  const onTopic = members.filter((m) => (m.assigned[topic]?.length ?? 0) > 0);
  const rebalancing = k.group.state === 'PreparingRebalance' || k.group.state === 'CompletingRebalance';

  if (k.partitions === null) {
    out.push({
      id: 'topic-missing',
      severity: 'problem',
      sentence: `Topic ${topic} does not exist in Kafka at ${f.brokers.join(',')}: a consumer of group ${group} stops at start-up and the relay cannot publish events for it.`,
      fix:
        `kafka-topics.sh --bootstrap-server ${f.brokers.join(',')} --create --topic ${q(topic)} --partitions 3 --replication-factor 1` +
        ` (or list it under spec.topics of the ProductPipeline and kubectl apply it: the operator creates it)`,
    });
  } else {
    out.push(...offsetFindings(f, k, onTopic.length));
  }

  if (members.length === 0) {
    // With the topic missing the consumer cannot start at all; that finding already says so.
    if (k.partitions !== null) out.push(...idleGroupFindings(f, k));
  } else if (onTopic.length === 0) {
    if (rebalancing) {
      out.push({
        id: 'group-rebalancing',
        severity: 'warning',
        sentence: `Consumer group ${group} is rebalancing (state ${k.group.state}): its ${members.length} member(s) hold no partitions of ${topic} yet; run diagnose again in a few seconds.`,
        fix: null,
      });
    } else {
      out.push(membersElsewhere(f, members));
    }
  }
  return out;
}

/** The topic exists: is the group parked at the log end, or is there nothing to read at all? */
function offsetFindings(f: DiagnoseFacts, k: KafkaFacts, membersOnTopic: number): Finding[] {
  const { group, topic } = f;
  const partitions = k.partitions ?? [];
  const held = sum(partitions.map((p) => Number(BigInt(p.logEndOffset) - BigInt(p.logStartOffset))));
  const written = sum(partitions.map((p) => Number(p.logEndOffset)));
  const committed = partitions.filter((p) => p.committedOffset !== null);
  const atLogEnd = committed.length > 0 && partitions.every((p) => p.lag === 0);

  // A reset in progress is about to move these offsets: its own finding speaks for the group.
  if (atLogEnd && held > 0 && membersOnTopic === 0 && !consumerOf(f)?.resetInProgress) {
    return [
      {
        id: 'offsets-at-log-end',
        severity: 'problem',
        sentence:
          `Group ${group} on topic ${topic}: the group's committed offsets are already at the end of the log: ` +
          `a consumer that starts now sees 0 messages until new events arrive. ` +
          `Its committed offsets equal the log-end offsets on ${committed.length} of ${partitions.length} partition(s) ` +
          `(${offsetList(partitions)}), so the ${held} message(s) ${topic} holds are behind it; ` +
          `the group has ${k.group.members.length === 0 ? 'no members now' : 'no member on this topic'}. ` +
          `To read them again, reset the group's offsets to the earliest (with its consumers stopped).`,
        fix: `npx shopstream reset-offsets --group ${q(group)} --topic ${q(topic)} --to-earliest --execute`,
      },
    ];
  }
  if (held === 0) {
    return [
      {
        id: 'topic-empty',
        severity: 'warning',
        sentence:
          written === 0
            ? `Topic ${topic} has never held a message (log-end offset 0 on all ${partitions.length} partition(s)): consumers of group ${group} have nothing to read until the relay publishes events to it.`
            : `Topic ${topic} holds no messages: all ${written} message(s) ever written were removed by retention, so group ${group} has nothing to read until new events are published.`,
        fix: null,
      },
    ];
  }
  return [];
}

/** No members: either the group never existed (or expired), or its consumers are simply not running. */
function idleGroupFindings(f: DiagnoseFacts, k: KafkaFacts): Finding[] {
  const { group, topic } = f;
  const partitions = k.partitions ?? [];
  const lag = sum(partitions.map((p) => p.lag));
  const committed = partitions.filter((p) => p.committedOffset !== null).length;
  // No members on purpose: the held-by-reset finding explains it, and starting consumers would fight the reset.
  if (consumerOf(f)?.held) return [];
  const startConsumer = consumerCommand(f);
  const hint =
    k.otherGroupsOnTopic.length > 0
      ? ` Groups consuming ${topic} right now: ${k.otherGroupsOnTopic.join(', ')} — check CONSUMER_GROUP_ID.`
      : '';
  if (k.group.state === 'Dead') {
    return [
      {
        id: 'group-unknown',
        severity: 'problem',
        sentence:
          `Consumer group ${group} is unknown to Kafka: it has never committed an offset (or its offsets expired) and has no members, ` +
          `so no consumer of this group is running. A consumer that starts now begins at the ${f.startFrom} offset of ${topic}: ` +
          `${lag} message(s) to read.${hint}`,
        fix: startConsumer,
      },
    ];
  }
  // Empty with its offsets at the log end is the original failure, reported by offsetFindings.
  if (committed > 0 && lag === 0) return [];
  return [
    {
      id: 'no-members',
      severity: 'problem',
      sentence:
        committed > 0
          ? `Consumer group ${group} has no members (state ${k.group.state}): no consumer of this group is running, and ${lag} message(s) of ${topic} wait for it (committed offsets on ${committed} of ${partitions.length} partition(s)).${hint}`
          : `Consumer group ${group} has no members (state ${k.group.state}) and has never committed an offset on ${topic}: no consumer of this group reads ${topic}; one that starts now begins at the ${f.startFrom} offset, ${lag} message(s) to read.${hint}`,
      fix: startConsumer,
    },
  ];
}

function membersElsewhere(f: DiagnoseFacts, members: GroupMember[]): Finding {
  const { group, topic } = f;
  const assigned = unique(
    members.flatMap((m) => Object.keys(m.assigned).filter((t) => (m.assigned[t]?.length ?? 0) > 0)),
  );
  const subscribed = unique(members.flatMap((m) => m.subscribed));
  const elsewhere = (assigned.length > 0 ? assigned : subscribed).filter((t) => t !== topic);
  const clients = unique(members.map((m) => m.clientId)).join(', ');
  if (elsewhere.length === 0) {
    return {
      id: 'members-on-other-topic',
      severity: 'problem',
      sentence: `Consumer group ${group} has ${members.length} member(s) (${clients}) subscribed to ${topic}, but none holds a partition of it: nothing from ${topic} reaches them.`,
      fix: `restart the consumers: ${consumerCommand(f)}`,
    };
  }
  const other = elsewhere[0]!;
  return {
    id: 'members-on-other-topic',
    severity: 'problem',
    sentence:
      `Consumer group ${group} has ${members.length} member(s) (${clients}), but they consume ${elsewhere.join(', ')}, not ${topic}: ` +
      `the consumers of this group were started with another topic, so no event of ${topic} reaches them.`,
    fix:
      `${consumerCommand(f)} (restart the consumers with CONSUMER_TOPIC=${q(topic)}; ` +
      `or, if ${other} is the topic you meant: npx shopstream diagnose --group ${q(group)} --topic ${q(other)})`,
  };
}

function outboxFindings(f: DiagnoseFacts): Finding[] {
  const { topic } = f;
  const o = f.outbox;
  if (!o.reachable) {
    return [
      {
        id: 'database-unreachable',
        severity: 'problem',
        sentence: `PostgreSQL cannot be reached (${o.error}): the API cannot write events and no relay can publish them to ${topic}.`,
        fix: 'npm run infra -- up',
      },
    ];
  }
  if (!o.migrated) {
    return [
      {
        id: 'database-not-migrated',
        severity: 'problem',
        sentence: `The database has no outbox tables: it was never migrated, so no event for ${topic} can be written or published.`,
        fix: 'npm run migrate',
      },
    ];
  }
  return [...relayFindings(f, o), ...deadFindings(f, o), ...otherTopicFindings(f, o)];
}

function relayFindings(f: DiagnoseFacts, o: OutboxFacts): Finding[] {
  const { topic } = f;
  const live = o.relays.filter((r) => r.live);
  const age = formatAge(o.oldestPendingAgeSeconds ?? 0);
  if (live.length === 0) {
    const last = o.relays[0];
    const seen = last
      ? `the last one, ${last.owner}, let its lease lapse ${formatAge(Math.max(0, last.leaseExpiredSecondsAgo))} ago`
      : 'no relay is registered: a relay that stops cleanly removes itself, and none has started since';
    const start =
      'infra/dev-env.sh node services/relay/dist/main.js (locally; npm start runs the whole stack; ' +
      `on Kubernetes: ${relayOnKubernetes(f)})`;
    return [
      o.pending > 0
        ? {
            id: 'relay-not-running',
            severity: 'problem',
            sentence:
              `${o.pending} event(s) for ${topic} are stuck PENDING in the outbox` +
              `${o.oldestPendingAgeSeconds === null ? '' : `, the oldest for ${age}`}` +
              `${o.blocked > 0 ? ` (${o.blocked} of them blocked behind DEAD rows)` : ''}, ` +
              `and no relay is running (${seen}): nothing publishes them to Kafka, so consumers receive nothing new.`,
            fix: start,
          }
        : {
            id: 'relay-not-running',
            severity: 'warning',
            sentence: `No relay is running (${seen}): nothing is pending for ${topic} now, but new events will stay in the outbox until a relay starts.`,
            fix: start,
          },
    ];
  }
  const out: Finding[] = [];
  if (o.pending > 0 && o.pendingInUnownedShards > 0) {
    out.push({
      id: 'pending-unowned-shards',
      severity: 'warning',
      sentence: `${o.pendingInUnownedShards} of the ${o.pending} PENDING event(s) for ${topic} are in shards no live relay holds: they wait until one of the ${live.length} relay(s) takes those shards over (after the old lease runs out).`,
      fix: null,
    });
  }
  // Blocked rows wait for an operator, not for the relays: the DEAD finding speaks for them.
  const claimable = o.pending - o.blocked;
  if (claimable > 0 && (o.oldestPendingAgeSeconds ?? 0) > STUCK_PENDING_SECONDS) {
    const retrying = Math.min(o.retrying, claimable);
    const failing =
      retrying > 0
        ? ` ${retrying} of them failed to publish and wait for a retry (last error: ${o.lastPendingError ?? 'unknown'}).`
        : '';
    out.push({
      id: 'pending-stuck',
      severity: 'warning',
      sentence: `${claimable} event(s) for ${topic} wait in the outbox, the oldest for ${age}, although ${live.length} relay(s) run (${live.map((r) => r.owner).join(', ')}).${failing}`,
      fix: 'npx shopstream status (shard owners, leases and relay health; locally the relay logs are /var/tmp/shopstream/relay-*.log)',
    });
  }
  return out;
}

/** How a DEAD finding's advice names things: one row (`it`, its skip command) or many (`them`). */
interface AdviceContext {
  topic: string;
  brokers: string;
  one: boolean;
  /** The skip command: the row's own for one row, a template for many. */
  skip: string;
}

/** What each error class says about the cause, and what to do before (or instead of) a requeue. */
const DEAD_CAUSES: Record<ErrorClass, { cause: string; advice: (c: AdviceContext) => string }> = {
  broker_unavailable: {
    cause: 'Kafka could not be reached when they were sent',
    advice: ({ one }) =>
      `Nothing is wrong with ${one ? 'the event itself' : 'the events themselves'}: once Kafka answers again, requeue ${one ? 'it' : 'them'} and the relay publishes ${one ? 'it' : 'them'} in order.`,
  },
  timeout: {
    cause: 'Kafka did not answer in time',
    advice: ({ one }) =>
      `Nothing is wrong with ${one ? 'the event itself' : 'the events themselves'}: once Kafka answers in time, requeue ${one ? 'it' : 'them'} and the relay publishes ${one ? 'it' : 'them'} in order.`,
  },
  message_too_large: {
    cause: 'Kafka refused the record as larger than the topic accepts',
    advice: ({ topic, brokers, one, skip }) =>
      `A requeue alone fails the same way: first raise max.message.bytes of ${topic} ` +
      `(kafka-configs.sh --bootstrap-server ${brokers} --alter --entity-type topics --entity-name ${q(topic)} --add-config max.message.bytes=<bytes>), ` +
      `or skip ${one ? 'it' : 'each'} (${skip}) so the product's later events go without ${one ? 'it' : 'them'}.`,
  },
  invalid_record: {
    cause: 'Kafka refused the record as invalid',
    advice: ({ one, skip }) =>
      `A requeue alone fails the same way unless the broker's rule changed: skip ${one ? 'it' : 'each'} (${skip}) so the product's later events go without ${one ? 'it' : 'them'}.`,
  },
  other: {
    cause: 'an error diagnose does not recognise',
    advice: ({ one, skip }) =>
      `Once its cause is fixed, requeue ${one ? 'it' : 'them'}; or skip ${one ? 'it' : 'each'} (${skip}) to let the product's later events go without ${one ? 'it' : 'them'}.`,
  },
};

/**
 * One finding per error class, however many DEAD rows share it (60 rows after a broker outage are
 * one cause with one fix, not 60 paragraphs): the count, sample products and events, the later
 * events held back behind them, and one requeue command for the whole group.
 */
function deadFindings(f: DiagnoseFacts, o: OutboxFacts): Finding[] {
  const { topic } = f;
  const blockedInAll =
    o.blocked > 0 && o.deadGroups.length > 1
      ? `; ${o.blocked} PENDING event(s) for ${topic} are blocked behind DEAD rows in all`
      : '';
  const brokers = f.brokers.join(',');
  return o.deadGroups.map((g): Finding => {
    const { cause, advice } = DEAD_CAUSES[g.errorClass];
    const error = `error class ${g.errorClass}: ${cause}; last error: ${g.lastError ?? 'none recorded'}`;
    if (g.events === 1) {
      const { first } = g;
      const later =
        g.heldBack > 0
          ? `${g.heldBack} later event(s) of product ${first.productId} are held back behind it`
          : `later events of product ${first.productId} will wait behind it`;
      return {
        id: 'dead-row',
        severity: 'problem',
        sentence:
          `Product ${first.productId} is blocked by DEAD outbox event ${first.id} (${first.eventType}, version ${first.aggregateVersion}), ` +
          `which failed ${first.attempts} time(s) (${error}): it was never published to ${topic}, and ${later} ` +
          `(the relay publishes each product's events in order)${blockedInAll}. ` +
          advice({ topic, brokers, one: true, skip: `npx shopstream outbox skip ${first.id}` }),
        fix: `npx shopstream outbox requeue ${first.id}`,
        dead: g,
      };
    }
    const products =
      g.products > g.sampleProductIds.length
        ? `${g.sampleProductIds.join(', ')} and ${g.products - g.sampleProductIds.length} more`
        : g.sampleProductIds.join(', ');
    const events =
      g.events > g.sampleEventIds.length
        ? `${g.sampleEventIds.join(', ')} and ${g.events - g.sampleEventIds.length} more`
        : g.sampleEventIds.join(', ');
    return {
      id: 'dead-row',
      severity: 'problem',
      sentence:
        `${g.events} DEAD outbox events for ${topic} share one cause (${error}): they were never published, ` +
        `and they block ${g.products} product(s) (${products}; events ${events}); ` +
        `${g.heldBack} later PENDING event(s) of those products are held back behind them ` +
        `(the relay publishes each product's events in order)${blockedInAll}. ` +
        `${advice({ topic, brokers, one: false, skip: 'npx shopstream outbox skip <id>' })} ` +
        `To see them: npx shopstream outbox list --status dead --error-class ${g.errorClass}`,
      fix: `npx shopstream outbox requeue --all --error-class ${g.errorClass}`,
      dead: g,
    };
  });
}

function otherTopicFindings(f: DiagnoseFacts, o: OutboxFacts): Finding[] {
  if (o.recentTopics.some((t) => t.topic === f.topic && t.events > 0)) return [];
  const others = o.recentTopics.filter((t) => t.topic !== f.topic && t.events > 0);
  if (others.length === 0) return [];
  const top = [...others].sort((a, b) => b.events - a.events);
  return [
    {
      id: 'outbox-other-topic',
      severity: 'warning',
      sentence: `The outbox holds no recent event for ${f.topic}, but ${top.map((t) => `${t.events} for ${t.topic}`).join(', ')} (unpublished, or published in the last hour): the API writes events for another topic than the one asked about.`,
      fix: `npx shopstream diagnose --group ${q(f.group)} --topic ${q(top[0]!.topic)}`,
    },
  ];
}

function flowing(f: DiagnoseFacts): Finding {
  const { group, topic } = f;
  const parts: string[] = [];
  if (f.kafka.reachable && f.kafka.partitions) {
    const partitions = f.kafka.partitions;
    const lag = sum(partitions.map((p) => p.lag));
    const members = f.kafka.group.members;
    const onTopic = members.filter((m) => (m.assigned[topic]?.length ?? 0) > 0);
    const assigned = sum(onTopic.map((m) => m.assigned[topic]?.length ?? 0));
    const caughtUp =
      lag === 0 && partitions.some((p) => p.committedOffset !== null)
        ? `; it is caught up: its committed offsets are at the log end, so it receives events as they are published`
        : '';
    parts.push(
      `group ${group} has ${onTopic.length} member(s) consuming ${topic} (${assigned} of ${partitions.length} partition(s) assigned) and lag is ${lag} message(s)${caughtUp}`,
    );
  }
  if (f.outbox.reachable && f.outbox.migrated) {
    const o = f.outbox;
    const live = o.relays.filter((r) => r.live).length;
    parts.push(
      `the outbox has ${o.pending} event(s) pending for ${topic}${o.pending > 0 ? ` (oldest ${formatAge(o.oldestPendingAgeSeconds ?? 0)})` : ''} and ${live} relay(s) running`,
    );
  }
  return {
    id: 'flowing',
    severity: 'ok',
    sentence: `Messages are flowing: ${parts.join('; ')}.`,
    fix: null,
  };
}

/** The pipeline read for these facts, when one was read and found. */
const pipelineOf = (f: DiagnoseFacts): PipelineView | null =>
  f.pipeline?.reachable ? f.pipeline.pipeline : null;
const consumerOf = (f: DiagnoseFacts): ConsumerView | null => pipelineOf(f)?.consumer ?? null;
const nsFlag = (p: PipelineView): string => `-n ${q(p.namespace)}`;

/**
 * How a consumer for this group and topic is started, locally and on Kubernetes. Without a
 * pipeline the advice is the one diagnose always gave; with one, it names the pipeline's
 * Deployment, and never `kubectl scale` while a reset holds it (the operator would take it back).
 */
function consumerCommand(f: DiagnoseFacts): string {
  const local = `CONSUMER_GROUP_ID=${q(f.group)} CONSUMER_TOPIC=${q(f.topic)} infra/dev-env.sh node services/consumer/dist/main.js`;
  const p = pipelineOf(f);
  const c = p?.consumer;
  if (!p) return `${local} (on Kubernetes: kubectl scale deployment shopstream-consumer --replicas=1)`;
  if (c?.held) {
    return `${local} (on Kubernetes: Deployment ${c.held.deployment} is held at 0 by offset reset ${c.held.requestId} of ProductPipeline ${p.namespace}/${p.name}: see that finding, do not scale it)`;
  }
  return `${local} (on Kubernetes: kubectl scale deployment ${q(c?.deployment ?? 'shopstream-consumer')} ${nsFlag(p)} --replicas=1)`;
}

/** How relays are brought back on Kubernetes: by people only when the pipeline does not own the replicas. */
function relayOnKubernetes(f: DiagnoseFacts): string {
  const p = pipelineOf(f);
  if (!p) return 'kubectl scale deployment shopstream-relay --replicas=2';
  const r = p.relay;
  if (!r || !relayOwnedByPipeline(r)) {
    return `kubectl scale deployment ${q(r?.deployment ?? 'shopstream-relay')} ${nsFlag(p)} --replicas=2`;
  }
  const owner =
    r.scalingMode === 'Operator'
      ? 'the operator owns its replicas (scaling mode Operator) and sets them back'
      : `KEDA owns its replicas through the ScaledObject ${p.name}-relay (scaling mode Keda) and sets them back`;
  return (
    `do not kubectl scale ${r.deployment ?? 'the relay Deployment'}: ${owner}; ` +
    `check the RelayScaled condition (kubectl get pp ${q(p.name)} ${nsFlag(p)} -o jsonpath='{.status.conditions[?(@.type=="RelayScaled")]}') ` +
    `and spec.relay.scaling.minReplicas (now ${r.minReplicas}; at least 1 keeps a relay running)`
  );
}

/** What the ProductPipeline adds: it cannot be read, none is found, a condition is False, a reset holds the consumers. */
function pipelineFindings(f: DiagnoseFacts): Finding[] {
  const read = f.pipeline;
  if (!read) return [];
  if (!read.reachable) {
    return [
      {
        id: 'pipeline-unreadable',
        severity: 'problem',
        sentence: `The ProductPipeline cannot be read (${read.error}): diagnose cannot tell whether an offset reset holds the consumers or who owns the relay replicas, so its Kubernetes advice is generic.`,
        fix: 'check the kubeconfig (--kubeconfig, SHOPSTREAM_KUBECONFIG or KUBECONFIG), --namespace and --pipeline; kubectl get pp -n <namespace>',
      },
    ];
  }
  const p = read.pipeline;
  if (!p) {
    return [
      {
        id: 'pipeline-not-found',
        severity: 'warning',
        sentence: `No ProductPipeline describes group ${f.group} (${read.note}): its Kubernetes advice assumes nothing owns the replicas.`,
        fix: 'name it with --pipeline (and --namespace), or SHOPSTREAM_PIPELINE / SHOPSTREAM_NAMESPACE',
      },
    ];
  }
  const out: Finding[] = p.conditions
    .filter((c) => c.status === 'False')
    .map((c) => ({
      id: 'pipeline-condition-false' as const,
      severity: 'warning' as const,
      sentence: `ProductPipeline ${p.namespace}/${p.name} reports ${c.type}=False (${c.reason})${c.message ? `: ${c.message}` : ''}.`,
      fix: `kubectl describe pp ${q(p.name)} ${nsFlag(p)} (its Events say when and why)`,
    }));
  const reset = resetFinding(f, p);
  if (reset) out.push(reset);
  return out;
}

/** A reset in progress, and the consumer Deployment it holds at 0: why the group has no members, and how it ends. */
function resetFinding(f: DiagnoseFacts, p: PipelineView): Finding | null {
  const c = p.consumer;
  if (!c) return null;
  const r = c.resetInProgress;
  const h = c.held;
  const pipeline = `ProductPipeline ${p.namespace}/${p.name}`;
  const cancel =
    `to cancel it, remove spec.consumers[groupId=${c.groupId}].offsetReset from ${pipeline} ` +
    `(kubectl edit pp ${q(p.name)} ${nsFlag(p)}): the operator then restores the replicas`;
  const paused = p.paused
    ? ' The pipeline is paused (shopstream.io/paused: "true"): the reset waits until the annotation is removed.'
    : '';
  const lastError = r?.lastError ? ` It retries after: ${r.lastError}.` : '';
  if (h && r && r.requestId === h.requestId) {
    const now = f.now ? Date.parse(f.now) : NaN;
    const overdue = !Number.isNaN(now) && now > Date.parse(r.deadline);
    const how = h.scaledObject ? ` (through its KEDA ScaledObject ${h.scaledObject}, paused at 0)` : '';
    return {
      id: 'held-by-reset',
      severity: overdue ? 'problem' : 'warning',
      sentence:
        `The consumers of group ${c.groupId} are held down on purpose: Deployment ${h.deployment} is held at 0${how} by offset reset ${h.requestId} ` +
        `since ${r.startedAt} (phase ${r.phase}); it is restored to ${h.replicas} replica(s) when the reset finishes or fails at its deadline ${r.deadline} ` +
        `(startedAt + ${r.timeoutSeconds}s).${lastError}${paused}` +
        (overdue
          ? ` The deadline has passed and the replicas are still held: the operator has not reconciled ${pipeline} since — is it running?`
          : ''),
      fix: overdue
        ? `check the operator (its Deployment and logs); ${cancel}. Do not kubectl scale ${h.deployment} while the reset holds it`
        : `wait for the reset (npx shopstream status shows its phase); ${cancel}. Do not kubectl scale ${h.deployment} while the reset holds it`,
    };
  }
  if (h) {
    return {
      id: 'held-by-reset',
      severity: 'warning',
      sentence:
        `Deployment ${h.deployment} of consumer group ${c.groupId} is still held at 0 for offset reset ${h.requestId}, which is no longer in progress: ` +
        `the operator restores it to ${h.replicas} replica(s) on its next reconcile of ${pipeline}.${paused}`,
      fix: `if it stays at 0, check the operator (its Deployment and logs); do not kubectl scale ${h.deployment}: the operator restores it`,
    };
  }
  if (r) {
    return {
      id: 'reset-in-progress',
      severity: 'warning',
      sentence:
        `Offset reset ${r.requestId} of group ${c.groupId} is in progress since ${r.startedAt} (phase ${r.phase}, deadline ${r.deadline})` +
        `${c.deployment ? '' : `: the pipeline names no consumer Deployment, so it waits for the group to be Empty — stop the consumers of ${c.groupId} yourself`}.${lastError}${paused}`,
      fix: c.deployment
        ? `wait for the reset; ${cancel}`
        : `stop the consumers of ${c.groupId}; or ${cancel}`,
    };
  }
  return null;
}

const offsetList = (
  partitions: { partition: number; committedOffset: string | null; logEndOffset: string }[],
) => partitions.map((p) => `p${p.partition}: ${p.committedOffset ?? '-'}/${p.logEndOffset}`).join(', ');

/** "42 s", "5 min 3 s", "2 h 10 min", "3 d 4 h". */
export function formatAge(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3600)} h`;
}

/** Quotes a name for a shell command line only when it needs it. */
const q = (s: string): string => (/^[\w.,:/@=+-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`);
const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
const unique = <T>(xs: T[]): T[] => [...new Set(xs)];
