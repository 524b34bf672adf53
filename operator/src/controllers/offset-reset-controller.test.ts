import {
  RESET_REPLICAS_ANNOTATION,
  RESET_REQUEST_ANNOTATION,
  alreadyHandled,
  reconcileOffsetReset,
} from './offset-reset-controller.js';
import type { OffsetResetDeps } from './offset-reset-controller.js';
import type { ConsumerSpec, ConsumerStatus, PartitionReset } from './pipeline-types.js';

/** In-memory stand-ins for the Deployment and the group: the procedure's ordering is what is tested. */
function world(groupState = 'Stable') {
  const deployment = { replicas: 3, annotations: {} as Record<string, string> };
  const calls: string[] = [];
  const plan: PartitionReset[] = [{ topic: 't', partition: 0, oldOffset: '7', newOffset: '0' }];
  const state = { group: groupState, now: new Date('2026-11-29T10:00:00Z') };
  const deps: OffsetResetDeps = {
    deployments: {
      get: async () => ({ replicas: deployment.replicas, annotations: { ...deployment.annotations } }),
      scale: async (_ns, _name, n) => {
        calls.push(`scale ${n}`);
        deployment.replicas = n;
      },
      annotate: async (_ns, _name, a) => {
        calls.push(`annotate ${JSON.stringify(a)}`);
        for (const [k, v] of Object.entries(a)) {
          if (v === null) delete deployment.annotations[k];
          else deployment.annotations[k] = v;
        }
      },
    },
    groups: {
      describe: async () => ({ state: state.group, members: [] }),
      plan: async () => {
        calls.push('plan');
        return plan;
      },
      commit: async () => {
        calls.push('commit');
      },
    },
    event: async () => undefined,
    now: () => state.now,
  };
  return { deployment, calls, state, deps };
}

const consumer = (mode: 'DryRun' | 'Execute', requestId = 'r1'): ConsumerSpec => ({
  groupId: 'g',
  deploymentRef: { name: 'consumer' },
  topics: ['t'],
  offsetReset: { requestId, mode, to: { earliest: true }, timeoutSeconds: 60 },
});

describe('reconcileOffsetReset', () => {
  it('Execute: holds at 0, fixes the plan before writing, writes, and restores only in the reconcile after', async () => {
    const w = world();
    let status: ConsumerStatus = { groupId: 'g', state: 'Stable' };
    let step = await reconcileOffsetReset('ns', consumer('Execute'), status, w.deps);
    expect(w.deployment).toEqual({
      replicas: 0,
      annotations: { [RESET_REQUEST_ANNOTATION]: 'r1', [RESET_REPLICAS_ANNOTATION]: '3' },
    });
    expect(step.condition?.status).toBe('Unknown');
    expect(w.calls).not.toContain('plan');

    w.state.group = 'Empty';
    status = step.status;
    step = await reconcileOffsetReset('ns', consumer('Execute'), status, w.deps);
    expect(step.status.resetInProgress).toMatchObject({
      phase: 'WritingOffsets',
      partitions: [{ newOffset: '0' }],
    });
    expect(w.calls).not.toContain('commit'); // the plan is stored before anything is written

    status = step.status;
    step = await reconcileOffsetReset('ns', consumer('Execute'), status, w.deps);
    expect(w.calls.filter((c) => c === 'commit')).toHaveLength(1);
    expect(step.status.lastReset).toMatchObject({ requestId: 'r1', mode: 'Execute' });
    expect(w.deployment.replicas).toBe(0); // not yet: the status saying "done" is not stored

    status = step.status;
    step = await reconcileOffsetReset('ns', consumer('Execute'), status, w.deps);
    expect(w.deployment).toEqual({ replicas: 3, annotations: {} });
    expect(w.calls.filter((c) => c === 'commit')).toHaveLength(1);
  });

  it('a crash after writing but before the status was stored writes the same plan again, under a still-held Deployment', async () => {
    const w = world('Empty');
    let step = await reconcileOffsetReset(
      'ns',
      consumer('Execute'),
      { groupId: 'g', state: 'Empty' },
      w.deps,
    );
    const stored = step.status; // phase WritingOffsets
    step = await reconcileOffsetReset('ns', consumer('Execute'), stored, w.deps); // commit; its status is "lost"
    step = await reconcileOffsetReset('ns', consumer('Execute'), stored, w.deps); // the next leader
    expect(w.calls.filter((c) => c === 'plan')).toHaveLength(1); // never re-planned (shiftBy safe)
    expect(w.calls.filter((c) => c === 'commit')).toHaveLength(2);
    expect(w.deployment.replicas).toBe(0);
    await reconcileOffsetReset('ns', consumer('Execute'), step.status, w.deps);
    expect(w.deployment.replicas).toBe(3);
  });

  it('restores a Deployment held for a request that left the spec, and gives up after the timeout', async () => {
    const w = world();
    const held = await reconcileOffsetReset(
      'ns',
      consumer('Execute'),
      { groupId: 'g', state: 'Stable' },
      w.deps,
    );
    expect(w.deployment.replicas).toBe(0);
    const { offsetReset: _, ...withoutReset } = consumer('Execute');
    await reconcileOffsetReset('ns', withoutReset, held.status, w.deps);
    expect(w.deployment).toEqual({ replicas: 3, annotations: {} });

    const t = world();
    let step = await reconcileOffsetReset(
      'ns',
      consumer('Execute', 'r2'),
      { groupId: 'g', state: 'Stable' },
      t.deps,
    );
    t.state.now = new Date(t.state.now.getTime() + 61_000);
    step = await reconcileOffsetReset('ns', consumer('Execute', 'r2'), step.status, t.deps);
    expect(step.condition).toMatchObject({ status: 'False', reason: 'GroupNotEmpty' });
    expect(step.status.resetHistory?.[0]).toMatchObject({ requestId: 'r2', outcome: 'Failed' });
    await reconcileOffsetReset('ns', consumer('Execute', 'r2'), step.status, t.deps);
    expect(t.deployment.replicas).toBe(3);
    expect(t.calls).not.toContain('commit');
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
      partitions: [{ oldOffset: '7', newOffset: '0' }],
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
