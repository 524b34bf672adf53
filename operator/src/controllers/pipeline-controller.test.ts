import { FORBIDDEN_RECHECK_MS, forbidden } from './errors.js';
import { FINALIZER, PAUSE_ANNOTATION, RESYNC_MS, reconcilePipeline } from './pipeline-controller.js';
import type { PipelineDeps } from './pipeline-controller.js';
import { PipelineMemory } from './pipeline-memory.js';
import type { ProductPipeline, ProductPipelineStatus } from './pipeline-types.js';

/** A pipeline kept in memory and adapters that do what the test says: the conditions logic is under test. */
function world(spec: Partial<ProductPipeline['spec']> = {}) {
  const pipeline: ProductPipeline = {
    apiVersion: 'shopstream.io/v1alpha1',
    kind: 'ProductPipeline',
    metadata: { name: 'p', namespace: 'ns', generation: 1, finalizers: [FINALIZER] },
    spec: { kafka: { bootstrapServers: 'k:9092' }, topics: [{ name: 't', partitions: 1 }], ...spec },
  };
  const behaviour = {
    topicError: undefined as Error | undefined,
    relayError: undefined as Error | undefined,
    topicReady: true,
    pending: 0,
  };
  const calls = { ensureTopic: 0, patchStatus: 0 };
  const deps: PipelineDeps = {
    pipelines: {
      get: async () => structuredClone(pipeline),
      patchStatus: async (_pipeline, status: ProductPipelineStatus) => {
        calls.patchStatus++;
        // A merge patch: null removes, anything else replaces.
        const merged = { ...pipeline.status, ...status } as Record<string, unknown>;
        for (const [k, v] of Object.entries(merged)) if (v === null) delete merged[k];
        pipeline.status = merged as ProductPipelineStatus;
      },
      setFinalizers: async () => undefined,
      recordEvent: async () => undefined,
    },
    topics: () => ({
      ensureTopic: async (t) => {
        calls.ensureTopic++;
        if (behaviour.topicError) throw behaviour.topicError;
        return { name: t.name, ready: behaviour.topicReady, partitions: t.partitions };
      },
      deleteTopic: async () => undefined,
      release: async () => undefined,
      close: async () => undefined,
    }),
    relay: {
      reconcile: async (p, _previous, conditions) => {
        if (behaviour.relayError) throw behaviour.relayError;
        conditions.set('RelayScaled', 'True', 'Scaled', 'ok');
        return p.spec.relay ? { relay: { pendingEvents: behaviour.pending } } : {};
      },
      forget: () => undefined,
    },
    consumers: {
      groups: () => {
        throw new Error('no consumers in these tests');
      },
      deployments: {
        replicas: async () => undefined,
        scale: async () => undefined,
      },
      scaledObjects: { targeting: async () => undefined, annotate: async () => undefined },
      recordEvent: async () => undefined,
      now: () => new Date(),
    },
  };
  const types = () => (pipeline.status?.conditions ?? []).map((c) => `${c.type}=${c.status}/${c.reason}`);
  return { pipeline, behaviour, deps, types, calls };
}

describe('reconcilePipeline conditions', () => {
  it('has conditions only for concerns in the spec: removing spec.relay drops RelayScaled and status.relay, and Ready recovers', async () => {
    const w = world({ relay: { deploymentRef: { name: 'relay' } } });
    await reconcilePipeline('ns/p', w.deps);
    expect(w.types()).toEqual([
      'Ready=True/Reconciled',
      'RelayScaled=True/Scaled',
      'TopicsReady=True/TopicsReady',
    ]);
    expect(w.pipeline.status?.relay).toEqual({ pendingEvents: 0 });
    // Make RelayScaled False, as a failing relay concern would, then remove the relay from the spec.
    w.pipeline.status!.conditions = w.pipeline.status!.conditions!.map((c) =>
      c.type === 'RelayScaled' || c.type === 'Ready'
        ? { ...c, status: 'False', reason: 'DeploymentNotFound' }
        : c,
    );
    delete w.pipeline.spec.relay;
    w.pipeline.metadata.generation = 2;
    await reconcilePipeline('ns/p', w.deps);
    expect(w.types()).toEqual(['Ready=True/Reconciled', 'TopicsReady=True/TopicsReady']);
    expect(w.pipeline.status).not.toHaveProperty('relay');
  });

  it('while paused keeps observedGeneration and the other conditions, and says Paused; unpaused, Paused goes', async () => {
    const w = world();
    await reconcilePipeline('ns/p', w.deps);
    w.pipeline.metadata.annotations = { [PAUSE_ANNOTATION]: 'true' };
    w.pipeline.metadata.generation = 2;
    await reconcilePipeline('ns/p', w.deps);
    expect(w.pipeline.status?.observedGeneration).toBe(1);
    expect(w.types()).toEqual([
      'Paused=True/PauseAnnotation',
      'Ready=True/Reconciled',
      'TopicsReady=True/TopicsReady',
    ]);
    expect(w.pipeline.status?.conditions?.find((c) => c.type === 'Ready')?.observedGeneration).toBe(1);
    w.pipeline.metadata.annotations = {};
    await reconcilePipeline('ns/p', w.deps);
    expect(w.pipeline.status?.observedGeneration).toBe(2);
    expect(w.types()).toEqual(['Ready=True/Reconciled', 'TopicsReady=True/TopicsReady']);
  });

  it('names the topics that are not ready, and the topic whose call failed', async () => {
    const w = world({
      topics: [
        { name: 'a', partitions: 1 },
        { name: 'b', partitions: 1 },
      ],
    });
    w.behaviour.topicReady = false;
    await reconcilePipeline('ns/p', w.deps);
    expect(w.pipeline.status?.conditions?.find((c) => c.type === 'TopicsReady')).toMatchObject({
      status: 'False',
      reason: 'TopicsNotReady',
      message: 'not ready yet: a, b (0 of 2 ready)',
    });
    w.behaviour.topicError = Object.assign(new Error('connect ECONNREFUSED'), {
      name: 'KafkaJSConnectionError',
    });
    await expect(reconcilePipeline('ns/p', w.deps)).rejects.toThrow('topic a: connect ECONNREFUSED');
    expect(w.pipeline.status?.conditions?.find((c) => c.type === 'TopicsReady')).toMatchObject({
      reason: 'KafkaUnavailable',
      message: 'topic a: connect ECONNREFUSED',
    });
  });

  it('gives Kubernetes errors their own reasons: 403 → Forbidden, a 503 or a failed request → KubernetesUnavailable', async () => {
    const apiError = (code: number) =>
      Object.assign(new Error(`HTTP-Code: ${code}`), { code, body: {}, headers: {} });
    // What undici's fetch (client-node 2.x) rejects with for a refused connection and a deadline.
    const fetchFailed = new TypeError('fetch failed', {
      cause: new Error('connect ECONNREFUSED 10.0.0.1:443'),
    });
    const deadline = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    for (const [err, reason] of [
      [apiError(403), 'Forbidden'],
      [apiError(503), 'KubernetesUnavailable'],
      [fetchFailed, 'KubernetesUnavailable'],
      [deadline, 'KubernetesUnavailable'],
      [new TypeError("Cannot read properties of undefined (reading 'spec')"), 'KafkaUnavailable'],
    ] as const) {
      const w = world();
      w.behaviour.topicError = err;
      await expect(reconcilePipeline('ns/p', w.deps)).rejects.toThrow();
      expect(w.types()).toEqual([`Ready=False/${reason}`, `TopicsReady=False/${reason}`]);
    }
  });
});

describe('reconcilePipeline refused by RBAC', () => {
  it('says Forbidden with the refusal in RelayScaled and Ready, and comes back on its own pace rather than the backoff', async () => {
    const w = world({ relay: { deploymentRef: { name: 'relay' } } });
    const refusal = '403 Forbidden: the operator may not get deployments/scale in namespace ns (relay)';
    w.behaviour.relayError = forbidden(refusal);
    // Returned, not thrown: a thrown error would be retried at once and then ever later.
    const result = await reconcilePipeline('ns/p', w.deps);
    expect(result.requeueAfterMs).toBe(FORBIDDEN_RECHECK_MS);
    expect(result.requeueAfterMs).toBeLessThan(RESYNC_MS);
    expect(w.types()).toEqual([
      'Ready=False/Forbidden',
      'RelayScaled=False/Forbidden',
      'TopicsReady=True/TopicsReady',
    ]);
    expect(w.pipeline.status?.conditions?.find((c) => c.type === 'Ready')?.message).toBe(refusal);
    // Granted later: the next reconcile recovers without a spec change.
    w.behaviour.relayError = undefined;
    await reconcilePipeline('ns/p', w.deps);
    expect(w.types()).toContain('Ready=True/Reconciled');
  });
});

describe('reconcilePipeline between spec changes (the periodic poll)', () => {
  const withMemory = () => {
    let nowMs = 0;
    const w = world({ relay: { deploymentRef: { name: 'relay' } } });
    w.pipeline.metadata.uid = 'uid-1';
    w.deps.memory = new PipelineMemory(300_000, () => nowMs);
    return { ...w, advance: (ms: number) => (nowMs += ms) };
  };

  it('brings topics to the spec once per generation, again at the resync interval, and retries them until ready', async () => {
    const w = withMemory();
    await reconcilePipeline('ns/p', w.deps);
    expect(w.calls.ensureTopic).toBe(1);
    w.advance(15_000);
    await reconcilePipeline('ns/p', w.deps);
    expect(w.calls.ensureTopic).toBe(1); // a poll: topics untouched, TopicsReady kept
    expect(w.types()).toContain('TopicsReady=True/TopicsReady');

    w.pipeline.metadata.generation = 2;
    w.behaviour.topicReady = false;
    await reconcilePipeline('ns/p', w.deps);
    expect(w.calls.ensureTopic).toBe(2);
    await reconcilePipeline('ns/p', w.deps);
    expect(w.calls.ensureTopic).toBe(3); // not ready: every poll tries again
    w.behaviour.topicReady = true;
    await reconcilePipeline('ns/p', w.deps);
    await reconcilePipeline('ns/p', w.deps);
    expect(w.calls.ensureTopic).toBe(4);
    w.advance(300_000);
    await reconcilePipeline('ns/p', w.deps);
    expect(w.calls.ensureTopic).toBe(5); // the resync
  });

  it('writes the status only when it changed in a way worth writing', async () => {
    const w = withMemory();
    await reconcilePipeline('ns/p', w.deps);
    expect(w.calls.patchStatus).toBe(1);
    await reconcilePipeline('ns/p', w.deps);
    expect(w.calls.patchStatus).toBe(1); // nothing changed
    w.behaviour.pending = 300;
    await reconcilePipeline('ns/p', w.deps);
    expect(w.calls.patchStatus).toBe(2); // 0 → 300: a new magnitude
    w.behaviour.pending = 290;
    w.advance(10_000);
    await reconcilePipeline('ns/p', w.deps);
    expect(w.calls.patchStatus).toBe(2); // the same magnitude, and the status is fresh
    expect(w.pipeline.status?.relay).toEqual({ pendingEvents: 300 });
    w.advance(60_000);
    await reconcilePipeline('ns/p', w.deps);
    expect(w.calls.patchStatus).toBe(3); // the same magnitude, but the stored number is a minute old
    expect(w.pipeline.status?.relay).toEqual({ pendingEvents: 290 });
    w.behaviour.pending = 0;
    await reconcilePipeline('ns/p', w.deps);
    expect(w.calls.patchStatus).toBe(4); // drained: always news
  });
});
