import {
  buildLagReport,
  formatLagTable,
  lagSeconds,
  oldestUnconsumedOffset,
  partitionKey,
} from './lag-report.js';
import type { PartitionLag } from '@shopstream/shared';

const p = (over: Partial<PartitionLag>): PartitionLag => ({
  topic: 't',
  partition: 0,
  committedOffset: '5',
  logStartOffset: '0',
  logEndOffset: '10',
  lag: 5,
  ...over,
});

describe('oldestUnconsumedOffset', () => {
  it('is the committed offset when the group is behind', () => {
    expect(oldestUnconsumedOffset(p({}), 'earliest')).toBe('5');
  });
  it('is nothing when the group is caught up', () => {
    expect(oldestUnconsumedOffset(p({ committedOffset: '10', lag: 0 }), 'earliest')).toBeNull();
  });
  it('is the log start when retention deleted what the commit points at', () => {
    expect(oldestUnconsumedOffset(p({ committedOffset: '2', logStartOffset: '4', lag: 8 }), 'earliest')).toBe(
      '4',
    );
  });
  it('is the start position for a group without a commit', () => {
    expect(
      oldestUnconsumedOffset(p({ committedOffset: null, logStartOffset: '3', lag: 7 }), 'earliest'),
    ).toBe('3');
  });
});

describe('lagSeconds', () => {
  it('is 0 when caught up, whatever the timestamp', () => {
    expect(lagSeconds(p({ lag: 0 }), undefined, 1000)).toBe(0);
  });
  it('is the age of the oldest unconsumed message', () => {
    expect(lagSeconds(p({}), 1_000, 13_500)).toBe(12.5);
  });
  it('is unknown when the message could not be read', () => {
    expect(lagSeconds(p({}), undefined, 13_500)).toBeNull();
  });
  it('is never negative (producer clocks ahead of ours)', () => {
    expect(lagSeconds(p({}), 20_000, 13_500)).toBe(0);
  });
});

describe('buildLagReport', () => {
  it("explains only partitions without a commit, with the consumer's sentence", () => {
    const rows = buildLagReport(
      [p({}), p({ partition: 1, committedOffset: null, lag: 10 })],
      new Map([[partitionKey('t', 0), 0]]),
      'earliest',
      2_000,
    );
    expect(rows[0]).toMatchObject({ lagSeconds: 2, explanation: null });
    expect(rows[1]!.explanation).toMatch(
      /no committed offset: starting from the earliest offset, 10 message/,
    );
    expect(rows[1]!.lagSeconds).toBeNull();
  });
});

describe('formatLagTable', () => {
  it('prints Kafka-style columns with - for no commit', () => {
    const text = formatLagTable(
      'g',
      buildLagReport([p({}), p({ partition: 1, committedOffset: null, lag: 10 })], new Map(), 'earliest', 0),
    );
    expect(text).toMatch(/^group g: 15 message\(s\) behind/);
    expect(text).toMatch(/TOPIC\s+PARTITION\s+CURRENT-OFFSET\s+LOG-END-OFFSET\s+LAG\s+LAG-SECONDS/);
    expect(text).toMatch(/\nt\s+1\s+-\s+10\s+10\s+\?/);
    expect(text).toMatch(/t\[1\]: no committed offset/);
  });
});
