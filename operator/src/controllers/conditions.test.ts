import { Conditions } from './conditions.js';
import { desiredTopics } from './pipeline-controller.js';
import type { ProductPipeline } from './pipeline-types.js';

describe('Conditions', () => {
  it('keeps lastTransitionTime while the status stays, moves it when the status changes, and stamps the generation', () => {
    const t1 = new Date('2026-11-29T08:00:00Z');
    const t2 = new Date('2026-11-29T09:00:00Z');
    const first = new Conditions(1, [], () => t1);
    first.set('Ready', 'True', 'Reconciled');
    const again = new Conditions(2, first.toList(), () => t2);
    again.set('Ready', 'True', 'Reconciled');
    expect(again.get('Ready')).toMatchObject({ lastTransitionTime: t1.toISOString(), observedGeneration: 2 });
    expect(again.transitions(first.toList())).toEqual([]);
    const changed = new Conditions(3, again.toList(), () => t2);
    changed.set('Ready', 'False', 'KafkaUnavailable', 'connection refused');
    expect(changed.get('Ready')).toMatchObject({ status: 'False', lastTransitionTime: t2.toISOString() });
    expect(changed.transitions(again.toList()).map((c) => c.type)).toEqual(['Ready']);
  });
});

describe('desiredTopics', () => {
  it.each([
    [
      { name: 't', partitions: 3 },
      // No replicas: the broker's (or Strimzi's) default replication factor applies.
      { name: 't', partitions: 3, config: {}, deletionPolicy: 'Retain' },
    ],
    [
      {
        name: 't',
        partitions: 6,
        replicas: 3,
        config: { 'retention.ms': '1' },
        deletionPolicy: 'Delete' as const,
      },
      { name: 't', partitions: 6, replicas: 3, config: { 'retention.ms': '1' }, deletionPolicy: 'Delete' },
    ],
  ])('applies defaults to %p', (topic, expected) => {
    const pipeline = {
      spec: { kafka: { bootstrapServers: 'k:9092' }, topics: [topic] },
    } as unknown as ProductPipeline;
    expect(desiredTopics(pipeline)).toEqual([expected]);
  });
});
