import { findings, formatStatus } from './status-report.js';
import type { OutboxPart, StatusReport } from './status-report.js';
import type { PipelineRead } from '../pipeline/pipeline-view.js';

const outbox = (over: Partial<OutboxPart> = {}): OutboxPart => ({
  counts: { PENDING: 3, PUBLISHED: 10, DEAD: 0, SKIPPED: 1 },
  pending: 3,
  blocked: 0,
  oldestPendingAgeSeconds: 4.25,
  oldestBlockedAgeSeconds: null,
  dead: [],
  shardOwners: [{ owner: 'relay-1', shards: 64, leaseExpiresInSeconds: 3.2 }],
  shardCount: 64,
  unownedShards: 0,
  relaysAlive: [{ owner: 'relay-1', leaseUntil: '2030-01-01T00:00:00.000Z' }],
  ...over,
});
const group = { group: 'g', topic: 't', state: 'Stable', members: 2, lag: 7, topicExists: true };

describe('formatStatus', () => {
  it('shows counts, age, shard owners and the group', () => {
    const text = formatStatus({ outbox: outbox(), consumerGroup: group });
    expect(text).toContain('outbox: 3 pending, 0 blocked, 10 published, 0 dead, 1 skipped');
    expect(text).toContain('oldest pending: 4.3s');
    expect(text).not.toContain('blocked:');
    expect(text).toContain('relay-1: 64 shard(s), lease ends in 3.2s');
    expect(text).toContain('consumer group g on t: Stable, 2 member(s), lag 7 message(s)');
    expect(text).not.toContain('!');
  });

  it('shows PENDING rows held behind DEAD rows apart from the pending ones', () => {
    const text = formatStatus({
      outbox: outbox({
        counts: { PENDING: 60, PUBLISHED: 10, DEAD: 1, SKIPPED: 0 },
        pending: 10,
        blocked: 50,
        oldestPendingAgeSeconds: 2,
        oldestBlockedAgeSeconds: 300,
      }),
      consumerGroup: group,
    });
    expect(text).toContain('outbox: 10 pending, 50 blocked, 10 published, 1 dead, 0 skipped');
    expect(text).toContain('oldest pending: 2.0s');
    expect(text).toContain('blocked: 50 PENDING event(s) behind a DEAD event of their product (oldest 5.0m)');
    expect(text).toMatch(
      /! 1 DEAD event\(s\) block their products' later events and hold back 50 PENDING event\(s\)/,
    );
  });

  it('says which half could not be read', () => {
    const text = formatStatus({ outbox: outbox(), consumerGroup: { error: 'cannot reach Kafka at x:1' } });
    expect(text).toContain('consumer group: unavailable (cannot reach Kafka at x:1)');
  });

  it('marks an expired lease', () => {
    const text = formatStatus({
      outbox: outbox({ shardOwners: [{ owner: 'r', shards: 1, leaseExpiresInSeconds: -2 }] }),
      consumerGroup: group,
    });
    expect(text).toContain('r: 1 shard(s), lease EXPIRED');
  });
});

describe('findings', () => {
  it('names DEAD rows, missing relays and an empty group', () => {
    const report: StatusReport = {
      outbox: outbox({
        counts: { PENDING: 5, PUBLISHED: 0, DEAD: 2, SKIPPED: 0 },
        pending: 5,
        relaysAlive: [],
        shardOwners: [],
        unownedShards: 64,
      }),
      consumerGroup: { ...group, state: 'Empty', members: 0 },
    };
    const f = findings(report);
    expect(f).toHaveLength(3);
    expect(f[0]).toMatch(/2 DEAD event/);
    expect(f[1]).toMatch(/no relay is alive and 5 event\(s\) are PENDING/);
    expect(f[2]).toMatch(/group g has no members/);
  });

  it('names a missing topic', () => {
    expect(
      findings({ outbox: outbox(), consumerGroup: { ...group, topicExists: false, lag: null } }),
    ).toEqual(['topic t does not exist']);
  });
});

describe('the pipeline section', () => {
  const now = new Date('2026-12-02T18:10:00.000Z');
  const read = (): PipelineRead => ({
    reachable: true,
    namespace: 'shop',
    note: null,
    pipeline: {
      namespace: 'shop',
      name: 'products',
      generation: 4,
      observedGeneration: 4,
      paused: false,
      conditions: [
        { type: 'OffsetResetSucceeded', status: 'Unknown', reason: 'InProgress', message: 'r1: waiting' },
        { type: 'Ready', status: 'False', reason: 'KafkaUnavailable', message: 'brokers down' },
      ],
      relay: {
        deployment: 'relay',
        scalingMode: 'Operator',
        minReplicas: 1,
        maxReplicas: 8,
        desiredReplicas: 2,
        currentReplicas: 2,
      },
      consumer: {
        groupId: 'g',
        inSpec: true,
        deployment: 'cons',
        state: 'Empty',
        lag: 7,
        members: 0,
        offsetReset: { requestId: 'r1', mode: 'Execute', timeoutSeconds: 300 },
        resetInProgress: {
          requestId: 'r1',
          phase: 'ScalingDown',
          startedAt: '2026-12-02T18:08:00.000Z',
          deadline: '2026-12-02T18:13:00.000Z',
          timeoutSeconds: 300,
          lastError: 'group not empty',
        },
        held: { requestId: 'r1', deployment: 'cons', replicas: 2, scaledObject: null },
        lastHistory: null,
      },
    },
  });

  it('shows conditions, relay owner, the reset, the held Deployment, and not "no consumer is running"', () => {
    const text = formatStatus(
      { outbox: outbox(), consumerGroup: { ...group, state: 'Empty', members: 0 }, pipeline: read() },
      now,
    );
    expect(text).toContain('pipeline shop/products: Ready False (generation 4, observed 4)');
    expect(text).toContain('  Ready=False (KafkaUnavailable): brokers down');
    expect(text).toContain(
      "relay replicas: the operator owns relay's replicas (scaling mode Operator, 1..8); desired 2, current 2",
    );
    expect(text).toContain(
      'offset reset r1 in progress: phase ScalingDown since 2026-12-02T18:08:00.000Z (2.0m ago), deadline 2026-12-02T18:13:00.000Z (in 3.0m, timeout 300s)',
    );
    expect(text).toContain('last error: group not empty');
    expect(text).toContain('Deployment cons held at 0 by reset r1; restored to 2 replica(s)');
    expect(text).toContain('! pipeline shop/products: Ready=False (KafkaUnavailable): brokers down');
    expect(text).toMatch(
      /! consumer group g is held at 0 by offset reset r1: .*remove spec\.consumers\[groupId=g\]\.offsetReset/,
    );
    expect(text).not.toContain('no consumer is running');
  });

  it('says in one line that the pipeline could not be read, or that none names the group', () => {
    expect(
      formatStatus({
        outbox: outbox(),
        consumerGroup: group,
        pipeline: { reachable: false, error: 'cannot reach Kubernetes API at x' },
      }),
    ).toContain('pipeline: unavailable (cannot reach Kubernetes API at x)');
    expect(
      formatStatus({
        outbox: outbox(),
        consumerGroup: group,
        pipeline: { reachable: true, namespace: 'n', pipeline: null, note: 'none here' },
      }),
    ).toContain('pipeline: none (none here)');
  });

  it('prints no pipeline section without a kubeconfig', () => {
    expect(formatStatus({ outbox: outbox(), consumerGroup: group })).not.toContain('pipeline');
  });
});
