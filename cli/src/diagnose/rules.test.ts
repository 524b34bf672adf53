import type { PartitionLag } from '@shopstream/shared';
import type { ErrorClass } from '@shopstream/shared';
import type { DeadGroup, DiagnoseFacts, GroupMember, KafkaFacts, OutboxFacts } from './facts.js';
import { diagnose, exitCodeFor, formatAge } from './rules.js';
import type { Finding, FindingId } from './rules.js';
import type { ConsumerView, PipelineView } from '../pipeline/pipeline-view.js';

const G = 'product-consumer';
const T = 'product.events';

const partition = (partition: number, committed: string | null, end: string, start = '0'): PartitionLag => {
  const resume = committed ?? start;
  return {
    topic: T,
    partition,
    committedOffset: committed,
    logStartOffset: start,
    logEndOffset: end,
    lag: Number(end) - Number(resume),
  };
};

const member = (id: string, assigned: Record<string, number[]>, subscribed = Object.keys(assigned)) =>
  ({ memberId: id, clientId: `client-${id}`, clientHost: '/127.0.0.1', assigned, subscribed }) as GroupMember;

/** `events` DEAD rows of one error class, on products prod-1… (events e-1…), the oldest first. */
const deadGroup = (
  errorClass: ErrorClass,
  events: number,
  heldBack: number,
  lastError = 'message_too_large: failed to publish 1 outbox events: MESSAGE_TOO_LARGE',
): DeadGroup => {
  const ids = Array.from({ length: events }, (_, i) => `e-${i + 1}`);
  const products = ids.map((_, i) => `prod-${i + 1}`);
  return {
    errorClass,
    events,
    products: events,
    sampleEventIds: ids.slice(0, 5),
    sampleProductIds: products.slice(0, 5),
    first: {
      id: 'e-1',
      productId: 'prod-1',
      eventType: 'product.created',
      aggregateVersion: 1,
      attempts: 10,
    },
    lastError,
    heldBack,
  };
};

/** A healthy pipeline: one member on all three partitions, 5 behind, one live relay, nothing pending. */
function healthy(): DiagnoseFacts & { kafka: KafkaFacts; outbox: OutboxFacts } {
  return {
    group: G,
    topic: T,
    startFrom: 'earliest',
    brokers: ['127.0.0.1:59092'],
    kafka: {
      reachable: true,
      partitions: [partition(0, '10', '12'), partition(1, '7', '10'), partition(2, '4', '4')],
      group: { state: 'Stable', members: [member('m1', { [T]: [0, 1, 2] })] },
      otherGroupsOnTopic: [],
    },
    outbox: {
      reachable: true,
      migrated: true,
      pending: 0,
      blocked: 0,
      dead: 0,
      skipped: 0,
      retrying: 0,
      oldestPendingAgeSeconds: null,
      lastPendingError: null,
      deadGroups: [],
      pendingInUnownedShards: 0,
      relays: [{ owner: 'relay-1', live: true, leaseExpiredSecondsAgo: -8, shards: 64 }],
      recentTopics: [{ topic: T, events: 26 }],
    },
  };
}

type Mutable = ReturnType<typeof healthy>;
const ids = (findings: Finding[]) => findings.map((f) => `${f.severity}:${f.id}`);
const find = (findings: Finding[], id: FindingId) => findings.find((f) => f.id === id);

describe('diagnose', () => {
  it('says messages are flowing, with the lag, when nothing is wrong', () => {
    const findings = diagnose(healthy());
    expect(ids(findings)).toEqual(['ok:flowing']);
    expect(findings[0]!.sentence).toContain('lag is 5 message(s)');
    expect(findings[0]!.sentence).toContain(`group ${G} has 1 member(s) consuming ${T}`);
    expect(exitCodeFor(findings)).toBe(0);
  });

  const cases: {
    name: string;
    change: (f: Mutable) => void;
    expected: `${'problem' | 'warning'}:${FindingId}`;
    mentions: string[];
    fix?: string | RegExp;
  }[] = [
    {
      name: 'Kafka unreachable',
      change: (f) => void (f.kafka = { reachable: false, error: 'Connection error: ECONNREFUSED' } as never),
      expected: 'problem:kafka-unreachable',
      mentions: ['127.0.0.1:59092', 'ECONNREFUSED'],
      fix: 'npm run infra -- up',
    },
    {
      name: 'topic missing',
      change: (f) => {
        f.kafka.partitions = null;
        f.kafka.group = { state: 'Dead', members: [] };
      },
      expected: 'problem:topic-missing',
      mentions: [`Topic ${T} does not exist`],
      fix: /kafka-topics\.sh --bootstrap-server 127\.0\.0\.1:59092 --create --topic product\.events/,
    },
    {
      name: 'group offsets at the log end, no members (the original failure)',
      change: (f) => {
        f.kafka.partitions = [partition(0, '12', '12'), partition(1, '10', '10'), partition(2, '4', '4')];
        f.kafka.group = { state: 'Empty', members: [] };
      },
      expected: 'problem:offsets-at-log-end',
      mentions: [
        "the group's committed offsets are already at the end of the log: a consumer that starts now sees 0 messages until new events arrive",
        G,
        T,
        '26 message(s)',
      ],
      fix: `npx shopstream reset-offsets --group ${G} --topic ${T} --to-earliest --execute`,
    },
    {
      name: 'group unknown',
      change: (f) => {
        f.kafka.partitions = [partition(0, null, '12'), partition(1, null, '10'), partition(2, null, '4')];
        f.kafka.group = { state: 'Dead', members: [] };
        f.kafka.otherGroupsOnTopic = ['product-consumr'];
      },
      expected: 'problem:group-unknown',
      mentions: [`Consumer group ${G} is unknown`, '26 message(s) to read', 'product-consumr'],
      fix: /CONSUMER_GROUP_ID=product-consumer CONSUMER_TOPIC=product\.events/,
    },
    {
      name: 'no members, messages waiting',
      change: (f) => void (f.kafka.group = { state: 'Empty', members: [] }),
      expected: 'problem:no-members',
      mentions: [`Consumer group ${G} has no members`, '5 message(s)'],
      fix: /CONSUMER_GROUP_ID=product-consumer/,
    },
    {
      name: 'members on another topic',
      change: (f) =>
        void (f.kafka.group = { state: 'Stable', members: [member('m1', { 'orders.events': [0] })] }),
      expected: 'problem:members-on-other-topic',
      mentions: ['consume orders.events, not product.events', 'client-m1'],
      fix: /CONSUMER_TOPIC=product\.events.*diagnose --group product-consumer --topic orders\.events/,
    },
    {
      name: 'group rebalancing',
      change: (f) => void (f.kafka.group = { state: 'PreparingRebalance', members: [member('m1', {}, [T])] }),
      expected: 'warning:group-rebalancing',
      mentions: ['rebalancing'],
    },
    {
      name: 'topic empty',
      change: (f) => {
        f.kafka.partitions = [partition(0, null, '0'), partition(1, null, '0'), partition(2, null, '0')];
      },
      expected: 'warning:topic-empty',
      mentions: [`Topic ${T} has never held a message`],
    },
    {
      name: 'relay not running with events pending',
      change: (f) => {
        f.outbox.pending = 42;
        f.outbox.oldestPendingAgeSeconds = 303;
        f.outbox.relays = [{ owner: 'relay-1', live: false, leaseExpiredSecondsAgo: 600, shards: 0 }];
      },
      expected: 'problem:relay-not-running',
      mentions: [
        '42 event(s)',
        'stuck PENDING',
        '5 min 3 s',
        'no relay is running',
        'relay-1',
        '10 min 0 s ago',
      ],
      fix: /services\/relay\/dist\/main\.js/,
    },
    {
      name: 'no relay registered, nothing pending',
      change: (f) => void (f.outbox.relays = []),
      expected: 'warning:relay-not-running',
      mentions: ['No relay is running'],
    },
    {
      name: 'pending with relays alive but old and failing',
      change: (f) => {
        f.outbox.pending = 7;
        f.outbox.retrying = 7;
        f.outbox.oldestPendingAgeSeconds = 120;
        f.outbox.lastPendingError = 'broker not available';
      },
      expected: 'warning:pending-stuck',
      mentions: ['7 event(s)', '2 min 0 s', 'broker not available'],
    },
    {
      name: 'pending in shards nobody holds',
      change: (f) => {
        f.outbox.pending = 3;
        f.outbox.oldestPendingAgeSeconds = 2;
        f.outbox.pendingInUnownedShards = 3;
      },
      expected: 'warning:pending-unowned-shards',
      mentions: ['3 of the 3 PENDING'],
    },
    {
      name: 'one DEAD row blocking a product',
      change: (f) => {
        f.outbox.pending = 2;
        f.outbox.blocked = 2;
        f.outbox.oldestPendingAgeSeconds = null;
        f.outbox.dead = 1;
        f.outbox.deadGroups = [deadGroup('message_too_large', 1, 2)];
      },
      expected: 'problem:dead-row',
      mentions: [
        'Product prod-1 is blocked by DEAD outbox event e-1',
        '2 later event(s) of product prod-1 are held back behind it',
        'error class message_too_large',
        'MESSAGE_TOO_LARGE',
        'raise max.message.bytes of product.events',
      ],
      fix: 'npx shopstream outbox requeue e-1',
    },
    {
      name: 'many DEAD rows with one cause',
      change: (f) => {
        f.outbox.dead = 60;
        f.outbox.deadGroups = [
          deadGroup(
            'broker_unavailable',
            60,
            0,
            'broker_unavailable: failed to publish 60 outbox events: Connection error',
          ),
        ];
      },
      expected: 'problem:dead-row',
      mentions: [
        '60 DEAD outbox events for product.events share one cause (error class broker_unavailable',
        'Connection error',
        'they block 60 product(s) (prod-1, prod-2, prod-3, prod-4, prod-5 and 55 more; events e-1, e-2, e-3, e-4, e-5 and 55 more)',
        '0 later PENDING event(s)',
        'once Kafka answers again',
      ],
      fix: 'npx shopstream outbox requeue --all --error-class broker_unavailable',
    },
    {
      name: 'outbox writes another topic',
      change: (f) => void (f.outbox.recentTopics = [{ topic: 'orders.events', events: 9 }]),
      expected: 'warning:outbox-other-topic',
      mentions: ['9 for orders.events'],
      fix: `npx shopstream diagnose --group ${G} --topic orders.events`,
    },
    {
      name: 'database unreachable',
      change: (f) => void (f.outbox = { reachable: false, error: 'ECONNREFUSED 127.0.0.1:55432' } as never),
      expected: 'problem:database-unreachable',
      mentions: ['ECONNREFUSED'],
      fix: 'npm run infra -- up',
    },
    {
      name: 'database not migrated',
      change: (f) => void (f.outbox.migrated = false),
      expected: 'problem:database-not-migrated',
      mentions: ['never migrated'],
      fix: 'npm run migrate',
    },
  ];

  it.each(cases)('$name → $expected', ({ change, expected, mentions, fix }) => {
    const facts = healthy();
    change(facts);
    const findings = diagnose(facts);
    expect(ids(findings)).toContain(expected);
    const finding = findings.find((f) => `${f.severity}:${f.id}` === expected)!;
    for (const m of mentions) expect(finding.sentence).toContain(m);
    if (typeof fix === 'string') expect(finding.fix).toBe(fix);
    else if (fix) expect(finding.fix).toMatch(fix);
    const problem = expected.startsWith('problem');
    expect(exitCodeFor(findings)).toBe(problem ? 1 : 0);
    // 'ok' only when nothing is a problem; problems always come first.
    expect(findings.some((f) => f.id === 'flowing')).toBe(!problem);
    expect(findings.map((f) => f.severity)).toEqual(
      [...findings.map((f) => f.severity)].sort((a, b) => order(a) - order(b)),
    );
  });

  it.each([...new Set(cases.map((c) => c.expected.split(':')[1] as FindingId))])(
    '%s does not fire on the healthy pipeline',
    (id) => {
      expect(find(diagnose(healthy()), id)).toBeUndefined();
    },
  );

  it('reports a caught-up group with members as flowing, not as the original failure', () => {
    const facts = healthy();
    facts.kafka.partitions = [partition(0, '12', '12'), partition(1, '10', '10'), partition(2, '4', '4')];
    const findings = diagnose(facts);
    expect(ids(findings)).toEqual(['ok:flowing']);
    expect(findings[0]!.sentence).toContain('lag is 0 message(s); it is caught up');
  });

  it('names the original failure, not "no members", when an empty group sits at the log end', () => {
    const facts = healthy();
    facts.kafka.partitions = [partition(0, '12', '12'), partition(1, '10', '10'), partition(2, '4', '4')];
    facts.kafka.group = { state: 'Empty', members: [] };
    expect(ids(diagnose(facts)).filter((i) => i.startsWith('problem'))).toEqual([
      'problem:offsets-at-log-end',
    ]);
  });

  it('does not call offsets at the log end of an empty topic the original failure', () => {
    const facts = healthy();
    facts.kafka.partitions = [partition(0, '5', '5', '5'), partition(1, '0', '0')];
    facts.kafka.group = { state: 'Empty', members: [] };
    const findings = ids(diagnose(facts));
    expect(findings).not.toContain('problem:offsets-at-log-end');
    expect(findings).toContain('warning:topic-empty');
  });

  it('does not report the group as unknown or memberless when the topic itself is missing', () => {
    const facts = healthy();
    facts.kafka.partitions = null;
    facts.kafka.group = { state: 'Dead', members: [] };
    expect(ids(diagnose(facts))).toEqual(['problem:topic-missing']);
  });

  it('groups DEAD rows by error class: one finding per cause, each with its count, blocked rows and one fix', () => {
    const facts = healthy();
    facts.outbox.pending = 60;
    facts.outbox.blocked = 50;
    facts.outbox.oldestPendingAgeSeconds = 3;
    facts.outbox.dead = 62;
    facts.outbox.deadGroups = [
      deadGroup('broker_unavailable', 60, 48, 'broker_unavailable: failed to publish 60 outbox events: x'),
      deadGroup('message_too_large', 2, 2),
    ];
    const findings = diagnose(facts);
    expect(ids(findings)).toEqual(['problem:dead-row', 'problem:dead-row']);
    const [broker, large] = findings;
    expect(broker!.sentence).toMatch(/^60 DEAD outbox events for product\.events share one cause/);
    expect(broker!.sentence).toContain('48 later PENDING event(s) of those products are held back');
    expect(broker!.sentence).toContain(
      '50 PENDING event(s) for product.events are blocked behind DEAD rows in all',
    );
    expect(broker!.fix).toBe('npx shopstream outbox requeue --all --error-class broker_unavailable');
    expect(broker!.dead).toMatchObject({ errorClass: 'broker_unavailable', events: 60 });
    expect(large!.sentence).toMatch(
      /^2 DEAD outbox events for product\.events share one cause \(error class message_too_large/,
    );
    expect(large!.sentence).toContain('they block 2 product(s) (prod-1, prod-2; events e-1, e-2)');
    expect(large!.fix).toBe('npx shopstream outbox requeue --all --error-class message_too_large');
    // Blocked rows wait for the requeue, not for the relays: no "pending stuck" warning for them.
    expect(find(findings, 'pending-stuck')).toBeUndefined();
  });

  it('warns about old pending rows only for those the relays could publish, not the blocked ones', () => {
    const facts = healthy();
    facts.outbox.pending = 57;
    facts.outbox.blocked = 50;
    facts.outbox.oldestPendingAgeSeconds = 120;
    facts.outbox.dead = 1;
    facts.outbox.deadGroups = [deadGroup('other', 1, 50, 'staged: broker refused the record')];
    const findings = diagnose(facts);
    expect(find(findings, 'pending-stuck')!.sentence).toMatch(/^7 event\(s\) for product\.events wait/);
    expect(find(findings, 'dead-row')!.sentence).toContain('error class other');
  });

  it('counts blocked rows among the stuck ones when no relay runs', () => {
    const facts = healthy();
    facts.outbox.pending = 5;
    facts.outbox.blocked = 5;
    facts.outbox.oldestPendingAgeSeconds = null;
    facts.outbox.relays = [];
    const sentence = find(diagnose(facts), 'relay-not-running')!.sentence;
    expect(sentence).toContain(
      '5 event(s) for product.events are stuck PENDING in the outbox (5 of them blocked behind DEAD rows)',
    );
    expect(sentence).not.toContain('the oldest');
  });

  it('puts problems before warnings whatever the rule order', () => {
    const facts = healthy();
    facts.kafka.partitions = [partition(0, null, '0')];
    facts.outbox.dead = 1;
    facts.outbox.deadGroups = [deadGroup('message_too_large', 1, 0)];
    expect(ids(diagnose(facts))).toEqual(['problem:dead-row', 'warning:topic-empty']);
  });
});

const order = (s: string) => ({ problem: 0, warning: 1, ok: 2 })[s as 'ok'];

describe('formatAge', () => {
  it.each([
    [0, '0 s'],
    [59.6, '1 min 0 s'],
    [303, '5 min 3 s'],
    [7800, '2 h 10 min'],
    [273_600, '3 d 4 h'],
  ])('%d s → %s', (s, text) => expect(formatAge(s)).toBe(text));
});

describe('diagnose with the ProductPipeline', () => {
  const NOW = '2026-12-02T18:10:00.000Z';

  /** A pipeline `shop/products` naming the group, Ready, relay scaled by `mode`. */
  const view = (over: Partial<PipelineView> = {}, consumer: Partial<ConsumerView> = {}): PipelineView => ({
    namespace: 'shop',
    name: 'products',
    generation: 3,
    observedGeneration: 3,
    paused: false,
    conditions: [{ type: 'Ready', status: 'True', reason: 'Reconciled', message: '' }],
    relay: {
      deployment: 'shopstream-relay',
      scalingMode: 'Operator',
      minReplicas: 1,
      maxReplicas: 8,
      desiredReplicas: 1,
      currentReplicas: 1,
    },
    consumer: {
      groupId: G,
      inSpec: true,
      deployment: 'shop-consumer',
      state: 'Stable',
      lag: 5,
      members: 1,
      offsetReset: null,
      resetInProgress: null,
      held: null,
      lastHistory: null,
      ...consumer,
    },
    ...over,
  });
  const withPipeline = (pipeline: PipelineView | null, base = healthy()): DiagnoseFacts => ({
    ...base,
    pipeline: {
      reachable: true,
      namespace: 'shop',
      pipeline,
      note: pipeline ? null : 'no ProductPipeline in namespace shop names group',
    },
    now: NOW,
  });
  /** Reset replay-7 started at 18:00 with the default 300 s timeout, holding shop-consumer (2 replicas) at 0. */
  const holding = (phase = 'ScalingDown', lastError: string | null = null): Partial<ConsumerView> => ({
    state: 'Empty',
    members: 0,
    offsetReset: { requestId: 'replay-7', mode: 'Execute', timeoutSeconds: 300 },
    resetInProgress: {
      requestId: 'replay-7',
      phase,
      startedAt: '2026-12-02T18:08:00.000Z',
      deadline: '2026-12-02T18:13:00.000Z',
      timeoutSeconds: 300,
      lastError,
    },
    held: { requestId: 'replay-7', deployment: 'shop-consumer', replicas: 2, scaledObject: null },
  });
  const emptyGroup = (): Mutable => {
    const f = healthy();
    f.kafka.group = { state: 'Empty', members: [] };
    return f;
  };
  const allText = (findings: Finding[]) => findings.map((x) => `${x.sentence} ${x.fix ?? ''}`).join('\n');

  it('explains an empty group by the reset that holds its Deployment, with its deadline and how to cancel it', () => {
    const findings = diagnose(
      withPipeline(view({}, holding('ScalingDown', 'group still has members')), emptyGroup()),
    );
    expect(ids(findings)).toEqual(['warning:held-by-reset', 'ok:flowing']);
    const held = find(findings, 'held-by-reset')!;
    expect(held.sentence).toContain(
      'Deployment shop-consumer is held at 0 by offset reset replay-7 since 2026-12-02T18:08:00.000Z (phase ScalingDown)',
    );
    expect(held.sentence).toContain(
      'restored to 2 replica(s) when the reset finishes or fails at its deadline 2026-12-02T18:13:00.000Z',
    );
    expect(held.sentence).toContain('group still has members');
    expect(held.fix).toContain(
      'remove spec.consumers[groupId=product-consumer].offsetReset from ProductPipeline shop/products',
    );
    expect(allText(findings)).not.toMatch(/kubectl scale deployment/);
    expect(exitCodeFor(findings)).toBe(0);
  });

  it('calls a hold past its deadline a problem: the operator should have restored the replicas', () => {
    const f = withPipeline(view({}, holding()), emptyGroup());
    f.now = '2026-12-02T18:20:00.000Z';
    const findings = diagnose(f);
    expect(find(findings, 'held-by-reset')).toMatchObject({ severity: 'problem' });
    expect(find(findings, 'held-by-reset')!.sentence).toMatch(/deadline has passed .* is it running\?/);
    expect(allText(findings)).not.toMatch(/kubectl scale deployment/);
  });

  it('does not offer its own offset reset while the pipeline resets the group', () => {
    const base = emptyGroup();
    base.kafka.partitions = [partition(0, '12', '12'), partition(1, '10', '10'), partition(2, '4', '4')];
    const findings = diagnose(withPipeline(view({}, holding()), base));
    expect(ids(findings)).not.toContain('problem:offsets-at-log-end');
    expect(allText(findings)).not.toContain('shopstream reset-offsets');
  });

  it('says a Deployment still held after its reset ended is the operator’s to restore', () => {
    const c = holding();
    c.resetInProgress = null;
    const findings = diagnose(withPipeline(view({}, c), emptyGroup()));
    expect(find(findings, 'held-by-reset')).toMatchObject({ severity: 'warning' });
    expect(find(findings, 'held-by-reset')!.sentence).toContain('no longer in progress');
    expect(allText(findings)).not.toMatch(/kubectl scale deployment/);
  });

  it('names the pipeline consumer Deployment when nothing holds it', () => {
    const findings = diagnose(withPipeline(view(), emptyGroup()));
    expect(find(findings, 'no-members')!.fix).toContain(
      'kubectl scale deployment shop-consumer -n shop --replicas=1',
    );
  });

  it('warns about a reset in progress that holds nothing (no deploymentRef): the consumers must be stopped by hand', () => {
    const c = holding('ScalingDown');
    c.held = null;
    c.deployment = null;
    const findings = diagnose(withPipeline(view({}, c)));
    expect(find(findings, 'reset-in-progress')!.sentence).toContain(
      'stop the consumers of product-consumer yourself',
    );
  });

  const noRelay = (o: OutboxFacts) => {
    o.relays = [];
    o.pending = 4;
    o.oldestPendingAgeSeconds = 30;
  };

  it.each(['Operator', 'Keda'] as const)(
    'never advises kubectl scale for relays the pipeline owns (scaling mode %s): RelayScaled and minReplicas instead',
    (mode) => {
      const base = healthy();
      noRelay(base.outbox);
      const v = view();
      v.relay!.scalingMode = mode;
      const findings = diagnose(withPipeline(v, base));
      const relay = find(findings, 'relay-not-running')!;
      expect(relay.fix).not.toMatch(/kubectl scale deployment/);
      expect(relay.fix).toContain('do not kubectl scale shopstream-relay');
      expect(relay.fix).toContain('RelayScaled');
      expect(relay.fix).toContain('spec.relay.scaling.minReplicas (now 1');
      expect(relay.fix).toContain(mode === 'Keda' ? 'ScaledObject products-relay' : 'scaling mode Operator');
    },
  );

  it('advises kubectl scale of the relay when the pipeline leaves its replicas alone (Disabled, or no spec.relay)', () => {
    const base = healthy();
    noRelay(base.outbox);
    const disabled = view();
    disabled.relay!.scalingMode = 'Disabled';
    expect(find(diagnose(withPipeline(disabled, base)), 'relay-not-running')!.fix).toContain(
      'kubectl scale deployment shopstream-relay -n shop --replicas=2',
    );
    expect(find(diagnose(withPipeline(view({ relay: null }), base)), 'relay-not-running')!.fix).toContain(
      'kubectl scale deployment shopstream-relay -n shop --replicas=2',
    );
  });

  it('gives the advice it always gave when no kubeconfig was given', () => {
    const base = healthy();
    noRelay(base.outbox);
    base.kafka.group = { state: 'Empty', members: [] };
    const findings = diagnose(base);
    expect(find(findings, 'relay-not-running')!.fix).toContain(
      'kubectl scale deployment shopstream-relay --replicas=2',
    );
    expect(find(findings, 'no-members')!.fix).toContain(
      'kubectl scale deployment shopstream-consumer --replicas=1',
    );
    expect(ids(findings).some((i) => i.includes('pipeline'))).toBe(false);
  });

  it('names each False condition of the pipeline', () => {
    const v = view({
      conditions: [
        { type: 'Ready', status: 'False', reason: 'KafkaUnavailable', message: 'cannot reach the brokers' },
        {
          type: 'RelayScaled',
          status: 'False',
          reason: 'DeploymentNotFound',
          message: 'relay Deployment shop/x not found',
        },
        { type: 'TopicsReady', status: 'True', reason: 'TopicsReady', message: '' },
      ],
    });
    const findings = diagnose(withPipeline(v));
    expect(findings.filter((x) => x.id === 'pipeline-condition-false').map((x) => x.sentence)).toEqual([
      'ProductPipeline shop/products reports Ready=False (KafkaUnavailable): cannot reach the brokers.',
      'ProductPipeline shop/products reports RelayScaled=False (DeploymentNotFound): relay Deployment shop/x not found.',
    ]);
  });

  it('makes an unreadable pipeline a problem, but still says that messages flow', () => {
    const f: DiagnoseFacts = {
      ...healthy(),
      pipeline: {
        reachable: false,
        error: 'cannot reach Kubernetes API at https://127.0.0.1:1: ECONNREFUSED',
      },
    };
    const findings = diagnose(f);
    expect(ids(findings)).toEqual(['problem:pipeline-unreadable', 'ok:flowing']);
    expect(findings[0]!.sentence).toContain('ECONNREFUSED');
    expect(exitCodeFor(findings)).toBe(1);
  });

  it('warns when no pipeline describes the group', () => {
    expect(ids(diagnose(withPipeline(null)))).toEqual(['warning:pipeline-not-found', 'ok:flowing']);
  });
});
