import { HOUR_MS, floorHour, hourOfPartition, partitionName, planPartitions } from './partition-plan.js';
import type { PartitionState } from './partition-plan.js';

const at = (iso: string) => new Date(iso);
const range = (iso: string) => ({ from: at(iso), to: new Date(at(iso).getTime() + HOUR_MS) });
const empty = (): PartitionState => ({ attached: new Map(), detached: [], defaultHours: [] });

describe('hourly partition names', () => {
  it('name a UTC hour and read back only names of that exact shape', () => {
    expect(partitionName(at('2026-11-29T06:00:00Z'))).toBe('outbox_event_p2026112906');
    expect(hourOfPartition('outbox_event_p2026112906')).toEqual(at('2026-11-29T06:00:00Z'));
    expect(hourOfPartition('outbox_event_p2026113125')).toBeUndefined(); // no such hour
    expect(hourOfPartition('outbox_event_published_default')).toBeUndefined();
    expect(hourOfPartition('outbox_event_p202611290')).toBeUndefined();
    expect(floorHour(at('2026-11-29T06:59:59.999Z'))).toEqual(at('2026-11-29T06:00:00Z'));
  });
});

describe('planPartitions', () => {
  const now = at('2026-11-29T06:20:00Z');

  it('creates from one hour back to hoursAhead ahead, the current hour first', () => {
    const plan = planPartitions(empty(), { now, hoursAhead: 2, retentionHours: 24 });
    expect(plan.create.map((d) => d.toISOString())).toEqual([
      '2026-11-29T06:00:00.000Z',
      '2026-11-29T07:00:00.000Z',
      '2026-11-29T08:00:00.000Z',
      '2026-11-29T05:00:00.000Z',
    ]);
    expect(plan.detach).toEqual([]);
    expect(plan.cutoff).toEqual(at('2026-11-28T06:20:00Z'));
  });

  it('skips attached hours, adds hours that still have rows in the default or a leftover table', () => {
    const state: PartitionState = {
      attached: new Map([
        ['outbox_event_p2026112905', range('2026-11-29T05:00:00Z')],
        ['outbox_event_p2026112906', range('2026-11-29T06:00:00Z')],
      ]),
      detached: ['outbox_event_p2026112907', 'outbox_event_p2026112812'],
      defaultHours: [at('2026-11-29T01:00:00Z'), at('2026-12-03T10:00:00Z')],
    };
    const plan = planPartitions(state, { now, hoursAhead: 1, retentionHours: 24 });
    expect(plan.create.map(partitionName)).toEqual([
      'outbox_event_p2026112907',
      'outbox_event_p2026120310',
      'outbox_event_p2026112901',
      'outbox_event_p2026112812',
    ]);
  });

  it('detaches partitions whose hour ended by the cutoff and drops expired leftovers, never a live hour', () => {
    const state: PartitionState = {
      attached: new Map([
        ['outbox_event_p2026112805', range('2026-11-28T05:00:00Z')], // ended 06:00, cutoff 06:20
        ['outbox_event_p2026112806', range('2026-11-28T06:00:00Z')], // ends 07:00: still holds live rows
        ['outbox_event_p2026112904', range('2026-11-29T04:00:00Z')],
      ]),
      detached: ['outbox_event_p2026112701', 'outbox_event_p2026112906'],
      defaultHours: [at('2026-11-27T03:00:00Z')], // past retention: purged, not given a partition
    };
    const plan = planPartitions(state, { now, hoursAhead: 0, retentionHours: 24 });
    expect(plan.detach).toEqual(['outbox_event_p2026112805']);
    expect(plan.drop).toEqual(['outbox_event_p2026112701']);
    expect(plan.create.map(partitionName)).toEqual(['outbox_event_p2026112906', 'outbox_event_p2026112905']);
  });
});
