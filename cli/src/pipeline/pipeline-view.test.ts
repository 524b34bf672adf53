import type { ProductPipeline } from '@shopstream/operator';
import { pipelineView, relayOwnedByPipeline, selectPipeline } from './pipeline-view.js';

const pipeline = (
  name: string,
  spec: Partial<ProductPipeline['spec']> = {},
  status?: ProductPipeline['status'],
) =>
  ({
    apiVersion: 'shopstream.io/v1alpha1',
    kind: 'ProductPipeline',
    metadata: { name, namespace: 'shop', generation: 2 },
    spec: {
      kafka: { bootstrapServers: 'k:9092' },
      topics: [{ name: 'product.events', partitions: 3 }],
      ...spec,
    },
    ...(status ? { status } : {}),
  }) as ProductPipeline;

const wanted = { namespace: 'shop', group: 'product-consumer', topic: 'product.events' };
const consumer = (groupId: string) => ({
  groupId,
  topics: ['product.events'],
  deploymentRef: { name: `${groupId}-d` },
});

describe('selectPipeline', () => {
  it('takes the only pipeline whose consumers name the group, over others naming only the topic', () => {
    const s = selectPipeline(
      [pipeline('a'), pipeline('b', { consumers: [consumer('product-consumer')] })],
      wanted,
    );
    expect('pipeline' in s && s.pipeline?.metadata.name).toBe('b');
  });

  it('falls back to the only pipeline naming the topic', () => {
    const s = selectPipeline(
      [pipeline('a'), pipeline('b', { topics: [{ name: 'other', partitions: 1 }] })],
      wanted,
    );
    expect(s.pipeline?.metadata.name).toBe('a');
  });

  it('refuses to guess between several, naming them', () => {
    const s = selectPipeline(
      [
        pipeline('b', { consumers: [consumer('product-consumer')] }),
        pipeline('a', { consumers: [consumer('product-consumer')] }),
      ],
      wanted,
    );
    expect(s).toEqual({
      pipeline: null,
      error:
        '2 ProductPipelines in namespace shop name group product-consumer (a, b): choose one with --pipeline or SHOPSTREAM_PIPELINE',
    });
  });

  it('notes (not an error) that none names the group or topic', () => {
    const s = selectPipeline([pipeline('x', { topics: [{ name: 'other', partitions: 1 }] })], wanted);
    expect(s).toEqual({
      pipeline: null,
      note: 'no ProductPipeline in namespace shop names group product-consumer or topic product.events (1 other(s): x)',
    });
  });

  it('uses the pipeline named, and calls a missing one an error', () => {
    expect(
      selectPipeline([pipeline('a'), pipeline('b')], { ...wanted, name: 'b' }).pipeline?.metadata.name,
    ).toBe('b');
    expect(selectPipeline([], { ...wanted, name: 'b' })).toEqual({
      pipeline: null,
      error: 'ProductPipeline shop/b not found',
    });
  });
});

describe('pipelineView', () => {
  it('reads the reset in progress, the held Deployment and its deadline from the spec timeout', () => {
    const p = pipeline(
      'products',
      {
        relay: { deploymentRef: { name: 'relay' }, scaling: { mode: 'Keda', minReplicas: 2 } },
        consumers: [
          {
            ...consumer('product-consumer'),
            offsetReset: { requestId: 'r1', to: { earliest: true }, mode: 'Execute', timeoutSeconds: 60 },
          },
        ],
      },
      {
        observedGeneration: 2,
        conditions: [
          {
            type: 'Ready',
            status: 'True',
            reason: 'Reconciled',
            message: '',
            observedGeneration: 2,
            lastTransitionTime: 't',
          },
        ],
        consumers: [
          {
            groupId: 'product-consumer',
            state: 'Empty',
            members: 0,
            resetInProgress: { requestId: 'r1', phase: 'ScalingDown', startedAt: '2026-12-02T18:00:00.000Z' },
            heldForReset: { requestId: 'r1', deployment: 'product-consumer-d', replicas: 3 },
            resetHistory: [{ requestId: 'r0', mode: 'DryRun', outcome: 'Succeeded', at: 't0' }],
          },
        ],
      },
    );
    const v = pipelineView(p, 'product-consumer');
    expect(v.relay).toMatchObject({
      deployment: 'relay',
      scalingMode: 'Keda',
      minReplicas: 2,
      maxReplicas: 8,
    });
    expect(relayOwnedByPipeline(v.relay)).toBe(true);
    expect(v.consumer).toMatchObject({
      deployment: 'product-consumer-d',
      resetInProgress: {
        requestId: 'r1',
        phase: 'ScalingDown',
        deadline: '2026-12-02T18:01:00.000Z',
        timeoutSeconds: 60,
      },
      held: { deployment: 'product-consumer-d', replicas: 3, scaledObject: null },
      lastHistory: { requestId: 'r0' },
    });
  });

  it('keeps the default deadline when the spec now names another request, and finds a group only the status lists', () => {
    const p = pipeline(
      'products',
      { consumers: [] },
      {
        consumers: [
          {
            groupId: 'product-consumer',
            state: 'Empty',
            resetInProgress: { requestId: 'r1', phase: 'Validating', startedAt: '2026-12-02T18:00:00.000Z' },
          },
        ],
      },
    );
    const v = pipelineView(p, 'product-consumer');
    expect(v.relay).toBeNull();
    expect(relayOwnedByPipeline(v.relay)).toBe(false);
    expect(v.consumer).toMatchObject({
      inSpec: false,
      resetInProgress: { deadline: '2026-12-02T18:05:00.000Z' },
    });
  });

  it('treats a relay section without scaling as Operator-scaled (the CRD default)', () => {
    const v = pipelineView(pipeline('p', { relay: { deploymentRef: { name: 'relay' } } }), 'g');
    expect(v.relay?.scalingMode).toBe('Operator');
    expect(v.consumer).toBeNull();
  });
});
