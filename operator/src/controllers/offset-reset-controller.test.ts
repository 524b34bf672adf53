import { KEDA_PAUSED_REPLICAS_ANNOTATION } from './consumer-hold.js';
import { OffsetCommitError, ResetRefusedError, forbidden } from './errors.js';
import { alreadyHandled, reconcileOffsetReset, releaseUnlessOpen } from './offset-reset-controller.js';
import type { OffsetResetDeps, ResetOutcome } from './offset-reset-controller.js';
import type { ConsumerSpec, ConsumerStatus, PartitionReset } from './pipeline-types.js';

/**
 * In-memory stand-ins for the Deployments' scale, a ScaledObject and the group: the procedure's
 * ordering is what is tested. `deployment` is the one named "consumer"; `replicas` has them all.
 */
function world(groupState = 'Stable') {
  const replicas: Record<string, number> = { consumer: 3 };
  const deployment = {
    get replicas() {
      return replicas.consumer!;
    },
    set replicas(n: number) {
      replicas.consumer = n;
    },
  };
  const scaledObject = { exists: false, annotations: {} as Record<string, string> };
  const calls: string[] = [];
  const plan: PartitionReset[] = [
    { topic: 't', partition: 0, oldOffset: '7', newOffset: '0' },
    { topic: 'u', partition: 0, oldOffset: '9', newOffset: '0' },
  ];
  const state = {
    group: groupState,
    now: new Date('2026-11-29T10:00:00Z'),
    planError: undefined as Error | undefined,
    kafkaDown: false,
    commitStopsAfter: undefined as number | undefined,
    scaleError: undefined as Error | undefined,
  };
  const apply = (target: Record<string, string>, a: Record<string, string | null>) => {
    for (const [k, v] of Object.entries(a)) {
      if (v === null) delete target[k];
      else target[k] = v;
    }
  };
  const kafka = () => {
    if (state.kafkaDown) throw new Error('Connection error: connect ECONNREFUSED 127.0.0.1:9092');
  };
  const deps: OffsetResetDeps = {
    deployments: {
      replicas: async (_ns, name) => {
        if (state.scaleError) throw state.scaleError;
        return replicas[name];
      },
      scale: async (_ns, name, n) => {
        if (state.scaleError) throw state.scaleError;
        calls.push(name === 'consumer' ? `scale ${n}` : `scale ${name} ${n}`);
        replicas[name] = n;
      },
    },
    scaledObjects: {
      targeting: async () =>
        scaledObject.exists
          ? { name: 'consumer-so', annotations: { ...scaledObject.annotations } }
          : undefined,
      annotate: async (_ns, _name, a) => {
        calls.push(`pause ${JSON.stringify(a)}`);
        apply(scaledObject.annotations, a);
      },
    },
    groups: {
      describe: async () => {
        kafka();
        return { state: state.group, members: [] };
      },
      plan: async () => {
        kafka();
        calls.push('plan');
        if (state.planError) throw state.planError;
        return plan;
      },
      commit: async (_g, p) => {
        kafka();
        calls.push('commit');
        if (state.commitStopsAfter !== undefined) {
          throw new OffsetCommitError(p.slice(0, state.commitStopsAfter), 'broker went away');
        }
      },
    },
    event: async () => undefined,
    now: () => state.now,
  };
  const later = (ms: number) => {
    state.now = new Date(state.now.getTime() + ms);
  };
  return { deployment, replicas, scaledObject, calls, state, deps, later };
}

const consumer = (mode: 'DryRun' | 'Execute', requestId = 'r1'): ConsumerSpec => ({
  groupId: 'g',
  deploymentRef: { name: 'consumer' },
  topics: ['t', 'u'],
  offsetReset: { requestId, mode, to: { earliest: true }, timeoutSeconds: 60 },
});

/** Reconciles while the outcome asks to come back at once, stopping early where `until` holds. */
async function run(
  w: ReturnType<typeof world>,
  spec: ConsumerSpec,
  from: ConsumerStatus,
  until: (s: ConsumerStatus) => boolean = () => false,
): Promise<ResetOutcome> {
  let step = await reconcileOffsetReset('ns', spec, from, w.deps);
  for (let i = 0; i < 10 && step.requeueAfterMs === 0 && !until(step.status); i++)
    step = await reconcileOffsetReset('ns', spec, step.status, w.deps);
  return step;
}

const writing = (s: ConsumerStatus) => s.resetInProgress?.phase === 'WritingOffsets';

describe('reconcileOffsetReset', () => {
  it('Execute: validates and records the hold in the status before scaling, fixes the plan before writing, restores only in the reconcile after', async () => {
    const w = world();
    let step = await reconcileOffsetReset(
      'ns',
      consumer('Execute'),
      { groupId: 'g', state: 'Stable' },
      w.deps,
    );
    // Validated first: planned once, nothing scaled, the hold recorded for the status write.
    expect(w.calls).toEqual(['plan']);
    expect(step.status.heldForReset).toEqual({ requestId: 'r1', deployment: 'consumer', replicas: 3 });
    expect(step.status.resetInProgress).toMatchObject({ phase: 'ScalingDown' });

    step = await reconcileOffsetReset('ns', consumer('Execute'), step.status, w.deps);
    expect(w.deployment.replicas).toBe(0);
    expect(step.status.heldForReset).toEqual({ requestId: 'r1', deployment: 'consumer', replicas: 3 });
    expect(step.condition?.status).toBe('Unknown');
    expect(step.status.resetInProgress?.lastError).toMatch(/waiting for group g to be Empty: Stable/);

    w.state.group = 'Empty';
    step = await reconcileOffsetReset('ns', consumer('Execute'), step.status, w.deps);
    expect(step.status.resetInProgress).toMatchObject({
      phase: 'WritingOffsets',
      partitions: [{ newOffset: '0' }, { newOffset: '0' }],
    });
    expect(w.calls).not.toContain('commit'); // the plan is stored before anything is written

    step = await reconcileOffsetReset('ns', consumer('Execute'), step.status, w.deps);
    expect(w.calls.filter((c) => c === 'commit')).toHaveLength(1);
    expect(step.status.lastReset).toMatchObject({ requestId: 'r1', mode: 'Execute' });
    expect(w.deployment.replicas).toBe(0); // not yet: the status saying "done" is not stored
    expect(step.status.heldForReset).toBeDefined();

    step = await reconcileOffsetReset('ns', consumer('Execute'), step.status, w.deps);
    expect(w.deployment.replicas).toBe(3);
    expect(step.status.heldForReset).toBeUndefined();
    expect(w.calls.filter((c) => c === 'commit')).toHaveLength(1);
  });

  it('a crash after writing but before the status was stored writes the same plan again, under a still-held Deployment', async () => {
    const w = world('Empty');
    const step0 = await run(w, consumer('Execute'), { groupId: 'g', state: 'Empty' }, writing);
    const stored = step0.status; // phase WritingOffsets, the plan fixed
    expect(stored.resetInProgress?.phase).toBe('WritingOffsets');
    const plans = w.calls.filter((c) => c === 'plan').length;
    await reconcileOffsetReset('ns', consumer('Execute'), stored, w.deps); // commit; its status is "lost"
    const step = await reconcileOffsetReset('ns', consumer('Execute'), stored, w.deps); // the next leader
    expect(w.calls.filter((c) => c === 'plan')).toHaveLength(plans); // never re-planned (shiftBy safe)
    expect(w.calls.filter((c) => c === 'commit')).toHaveLength(2);
    expect(w.deployment.replicas).toBe(0);
    await reconcileOffsetReset('ns', consumer('Execute'), step.status, w.deps);
    expect(w.deployment.replicas).toBe(3);
  });

  it('a refused plan (topic missing, ACL, bad target) fails the Execute before anything is scaled', async () => {
    for (const error of [
      new ResetRefusedError('TopicNotFound', 'topic(s) u do not exist'),
      new ResetRefusedError('Forbidden', 'Kafka denied it: GROUP_AUTHORIZATION_FAILED'),
      new RangeError('not an RFC 3339 date-time: yesterday'),
    ]) {
      const w = world();
      w.state.planError = error;
      const step = await reconcileOffsetReset(
        'ns',
        consumer('Execute'),
        { groupId: 'g', state: 'Stable' },
        w.deps,
      );
      expect(step.condition).toMatchObject({
        status: 'False',
        reason: error instanceof ResetRefusedError ? error.reason : 'InvalidTarget',
      });
      expect(step.condition?.message).toContain('offsets unchanged');
      expect(step.status.resetHistory?.[0]).toMatchObject({ outcome: 'Failed', partitionsWritten: [] });
      expect(w.calls.filter((c) => c.startsWith('scale') || c.startsWith('pause'))).toEqual([]);
      expect(w.deployment.replicas).toBe(3);
    }
  });

  it('one deadline across phases: Kafka down after the group emptied → Failed at the deadline, replicas back at once, offsets reported as far as they got', async () => {
    const w = world('Empty');
    let step = await run(w, consumer('Execute'), { groupId: 'g', state: 'Stable' }, writing);
    // Reached WritingOffsets; the commit stops after one of two partitions, then Kafka goes away.
    w.state.commitStopsAfter = 1;
    expect(w.deployment.replicas).toBe(0);
    w.later(1000);
    step = await reconcileOffsetReset('ns', consumer('Execute'), step.status, w.deps);
    w.state.kafkaDown = true;
    expect(step.condition).toMatchObject({ status: 'Unknown', reason: 'InProgress' });
    expect(step.status.resetInProgress?.written).toEqual([
      { topic: 't', partition: 0, oldOffset: '7', newOffset: '0' },
    ]);
    expect(step.requeueAfterMs).toBeGreaterThan(0);
    for (let t = 0; t < 70; t += 5) {
      w.later(5000);
      step = await reconcileOffsetReset('ns', consumer('Execute'), step.status, w.deps);
      if (step.condition?.status === 'False') break;
      expect(step.status.resetInProgress?.lastError).toMatch(/ECONNREFUSED/);
      expect(w.deployment.replicas).toBe(0);
    }
    expect(step.condition).toMatchObject({ status: 'False', reason: 'DeadlineExceeded' });
    expect(step.condition?.message).toMatch(/not finished within 60s \(WritingOffsets: .*ECONNREFUSED/);
    expect(step.condition?.message).toContain('offsets written before it stopped: t[0] 7→0');
    expect(step.status.resetHistory?.[0]).toMatchObject({
      requestId: 'r1',
      outcome: 'Failed',
      reason: 'DeadlineExceeded',
      partitionsWritten: [{ topic: 't', partition: 0 }],
    });
    expect(step.status.resetInProgress).toBeNull();
    // Given back in the same reconcile (Kubernetes only), and nothing is retried afterwards.
    expect(w.deployment.replicas).toBe(3);
    expect(step.status.heldForReset).toBeUndefined();
    const commits = w.calls.filter((c) => c === 'commit').length;
    w.state.kafkaDown = false;
    await reconcileOffsetReset('ns', consumer('Execute'), step.status, w.deps);
    expect(w.calls.filter((c) => c === 'commit')).toHaveLength(commits);
  });

  it('the deadline also ends a group that never empties: DeadlineExceeded naming the wait, offsets unchanged', async () => {
    const w = world('Stable');
    let step = await run(w, consumer('Execute'), { groupId: 'g', state: 'Stable' });
    w.later(61_000);
    step = await reconcileOffsetReset('ns', consumer('Execute'), step.status, w.deps);
    expect(step.condition).toMatchObject({ status: 'False', reason: 'DeadlineExceeded' });
    expect(step.condition?.message).toMatch(
      /waiting for group g to be Empty: Stable with 0 member\(s\)\); offsets unchanged; replicas restored/,
    );
    expect(w.deployment.replicas).toBe(3);
    expect(w.calls).not.toContain('commit');
  });

  it('restores a Deployment held for a request that left the spec, from the status record', async () => {
    const w = world();
    const held = await run(w, consumer('Execute'), { groupId: 'g', state: 'Stable' });
    expect(w.deployment.replicas).toBe(0);
    const { offsetReset: _, ...withoutReset } = consumer('Execute');
    const step = await reconcileOffsetReset('ns', withoutReset, held.status, w.deps);
    expect(w.deployment.replicas).toBe(3);
    expect(step.status.resetInProgress).toBeNull();
    expect(step.status.heldForReset).toBeUndefined();
  });

  it('a consumer entry removed from the spec is found through the status: releaseUnlessOpen restores it', async () => {
    const w = world();
    const held = await run(w, consumer('Execute'), { groupId: 'g', state: 'Stable' });
    expect(held.status.heldForReset).toEqual({ requestId: 'r1', deployment: 'consumer', replicas: 3 });
    const after = await releaseUnlessOpen('ns', {}, held.status, undefined, w.deps);
    expect(w.deployment.replicas).toBe(3);
    expect(after.heldForReset).toBeUndefined();
  });

  it('write-ahead: the reconcile that records the hold never scales, and a record whose status write was lost is made again', async () => {
    const w = world();
    const stored: ConsumerStatus = { groupId: 'g', state: 'Stable' };
    const validated = await reconcileOffsetReset('ns', consumer('Execute'), stored, w.deps);
    expect(validated.status.heldForReset).toBeDefined();
    expect(w.deployment.replicas).toBe(3);
    // The status write was lost (a conflict, the operator died): the next reconcile reads `stored`.
    const again = await reconcileOffsetReset('ns', consumer('Execute'), stored, w.deps);
    expect(again.status.resetInProgress).toMatchObject({ phase: 'ScalingDown' });
    expect(w.calls.filter((c) => c.startsWith('scale'))).toEqual([]);
    // A stored ScalingDown without its record (not written by this version) is recorded first too.
    const { heldForReset: _, ...unrecorded } = again.status;
    const recorded = await reconcileOffsetReset('ns', consumer('Execute'), unrecorded, w.deps);
    expect(w.calls.filter((c) => c.startsWith('scale'))).toEqual([]);
    expect(recorded.status.heldForReset).toEqual({ requestId: 'r1', deployment: 'consumer', replicas: 3 });
    await reconcileOffsetReset('ns', consumer('Execute'), recorded.status, w.deps);
    expect(w.calls.filter((c) => c.startsWith('scale'))).toEqual(['scale 0']);
  });

  it('the operator dies between storing the record and scaling: the next leader holds, finishes and restores from the status', async () => {
    const w = world('Empty');
    const stored = (
      await reconcileOffsetReset('ns', consumer('Execute'), { groupId: 'g', state: 'Stable' }, w.deps)
    ).status;
    expect(w.deployment.replicas).toBe(3); // the first leader is gone before it scaled
    const step = await run(w, consumer('Execute'), stored);
    expect(step.status.lastReset?.requestId).toBe('r1');
    expect(w.calls.filter((c) => c.startsWith('scale'))).toEqual(['scale 0', 'scale 3']);
    expect(step.status.heldForReset).toBeUndefined();
  });

  it('gives back only what is still held: a restore whose status write was lost, or a request dropped before the hold, scales nothing', async () => {
    const w = world('Empty');
    const written = await run(w, consumer('Execute'), { groupId: 'g', state: 'Stable' }, (s) =>
      Boolean(s.lastReset),
    );
    expect(written.status.heldForReset).toBeDefined();
    await reconcileOffsetReset('ns', consumer('Execute'), written.status, w.deps); // restores to 3
    w.deployment.replicas = 5; // someone scales up after the reset
    const replayed = await reconcileOffsetReset('ns', consumer('Execute'), written.status, w.deps);
    expect(w.deployment.replicas).toBe(5);
    expect(replayed.status.heldForReset).toBeUndefined();
    expect(w.calls.filter((c) => c.startsWith('scale'))).toEqual(['scale 0', 'scale 3']);

    const v = world();
    const validated = await reconcileOffsetReset(
      'ns',
      consumer('Execute', 'r2'),
      { groupId: 'g', state: 'Stable' },
      v.deps,
    );
    const { offsetReset: _, ...withoutReset } = consumer('Execute');
    const dropped = await reconcileOffsetReset('ns', withoutReset, validated.status, v.deps);
    expect(dropped.status.heldForReset).toBeUndefined();
    expect(v.calls.filter((c) => c.startsWith('scale'))).toEqual([]);
  });

  it('a deploymentRef changed mid-reset: the old Deployment is given back, the new one recorded before it is held', async () => {
    const w = world();
    w.replicas['consumer-v2'] = 4;
    const held = await run(w, consumer('Execute'), { groupId: 'g', state: 'Stable' });
    expect(w.replicas).toEqual({ consumer: 0, 'consumer-v2': 4 });
    const moved = { ...consumer('Execute'), deploymentRef: { name: 'consumer-v2' } };
    const recorded = await reconcileOffsetReset('ns', moved, held.status, w.deps);
    expect(w.replicas).toEqual({ consumer: 3, 'consumer-v2': 4 });
    expect(recorded.status.heldForReset).toEqual({ requestId: 'r1', deployment: 'consumer-v2', replicas: 4 });
    await reconcileOffsetReset('ns', moved, recorded.status, w.deps);
    expect(w.replicas).toEqual({ consumer: 3, 'consumer-v2': 0 });
  });

  it('RBAC refusing the consumer Deployment’s scale fails the Execute at once, naming the refusal, nothing scaled', async () => {
    const w = world();
    w.state.scaleError = forbidden(
      '403 Forbidden: the operator may not get deployments/scale in namespace ns',
    );
    const step = await reconcileOffsetReset(
      'ns',
      consumer('Execute'),
      { groupId: 'g', state: 'Stable' },
      w.deps,
    );
    expect(step.condition).toMatchObject({ status: 'False', reason: 'Forbidden' });
    expect(step.condition?.message).toMatch(
      /^reset r1: 403 Forbidden: the operator may not get deployments\/scale in namespace ns; offsets unchanged$/,
    );
    expect(step.status.resetHistory?.[0]).toMatchObject({
      requestId: 'r1',
      outcome: 'Failed',
      reason: 'Forbidden',
    });
    expect(step.status.heldForReset).toBeUndefined();
    expect(w.deployment.replicas).toBe(3);
  });

  it('pauses a KEDA ScaledObject on the consumer instead of scaling it, and unpauses it afterwards', async () => {
    const w = world();
    w.scaledObject.exists = true;
    let step = await run(w, consumer('Execute'), { groupId: 'g', state: 'Stable' });
    expect(w.scaledObject.annotations).toEqual({ [KEDA_PAUSED_REPLICAS_ANNOTATION]: '0' });
    expect(w.calls.filter((c) => c.startsWith('scale'))).toEqual([]);
    expect(step.status.heldForReset).toMatchObject({ scaledObject: 'consumer-so' });
    w.deployment.replicas = 0; // what KEDA does
    w.state.group = 'Empty';
    step = await run(w, consumer('Execute'), step.status);
    expect(step.status.lastReset?.requestId).toBe('r1');
    expect(w.scaledObject.annotations).toEqual({});
    expect(w.calls.filter((c) => c.startsWith('scale'))).toEqual([]);
    expect(step.status.heldForReset).toBeUndefined();
  });

  it('runs a DryRun once and never scales for it', async () => {
    const w = world();
    const step = await reconcileOffsetReset(
      'ns',
      consumer('DryRun'),
      { groupId: 'g', state: 'Stable' },
      w.deps,
    );
    expect(step.status.lastReset).toMatchObject({
      mode: 'DryRun',
      partitions: [{ oldOffset: '7', newOffset: '0' }, { oldOffset: '9' }],
    });
    await reconcileOffsetReset('ns', consumer('DryRun'), step.status, w.deps);
    expect(w.calls).toEqual(['plan']);
  });
});

describe('alreadyHandled', () => {
  const history = [{ requestId: 'a', mode: 'DryRun' as const, outcome: 'Succeeded' as const, at: '' }];
  it('lets an Execute follow a DryRun of the same id, but not the reverse', () => {
    expect(alreadyHandled(history, 'a', 'DryRun')).toBe(true);
    expect(alreadyHandled(history, 'a', 'Execute')).toBe(false);
    const executed = [{ ...history[0]!, mode: 'Execute' as const }];
    expect(alreadyHandled(executed, 'a', 'DryRun')).toBe(true);
    expect(alreadyHandled(executed, 'a', 'Execute')).toBe(true);
    expect(alreadyHandled(executed, 'b', 'Execute')).toBe(false);
  });
});
