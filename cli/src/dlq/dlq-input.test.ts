import { CliError } from '../output.js';
import {
  parseFilter,
  parseLimit,
  parsePosition,
  parsePurgeTarget,
  parseReplaySelection,
  parseSince,
} from './dlq-input.js';

const NOW = Date.parse('2026-12-01T12:00:00.000Z');

function usage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(2);
    return (err as CliError).message;
  }
  throw new Error('expected a usage error');
}

describe('parsePosition', () => {
  it('reads <partition>:<offset>', () => {
    expect(parsePosition('2:0042')).toEqual({ partition: 2, offset: '42' });
  });
  it.each(['3', '1:', ':4', '-1:2', '1:2:3', 'a:1', '1:x'])('refuses %p with a usage error', (value) => {
    expect(usage(() => parsePosition(value))).toContain('<partition>:<offset>');
  });
});

describe('parseSince', () => {
  it('takes a duration back from now', () => {
    expect(parseSince('10m', NOW).toISOString()).toBe('2026-12-01T11:50:00.000Z');
    expect(parseSince('2h', NOW).toISOString()).toBe('2026-12-01T10:00:00.000Z');
    expect(parseSince('1d', NOW).toISOString()).toBe('2026-11-30T12:00:00.000Z');
  });
  it('takes an ISO time', () => {
    expect(parseSince('2026-11-30T08:00:00+01:00', NOW).toISOString()).toBe('2026-11-30T07:00:00.000Z');
  });
  it.each(['yesterday', '10', '10 minutes', '2026-13-45T00:00:00Z', '1234'])('refuses %p', (value) => {
    expect(usage(() => parseSince(value, NOW))).toContain('--since');
  });
});

describe('parseFilter and parseLimit', () => {
  it('builds a filter of what was given', () => {
    expect(parseFilter({ code: 'NOT_JSON', partition: '1', since: '1h', originalTopic: 't' }, NOW)).toEqual({
      code: 'NOT_JSON',
      partition: 1,
      originalTopic: 't',
      since: new Date(NOW - 3_600_000),
    });
    expect(parseFilter({}, NOW)).toEqual({});
  });
  it('refuses a bad partition, an empty code and a bad limit', () => {
    expect(usage(() => parseFilter({ partition: '-1' }, NOW))).toContain('--partition');
    expect(usage(() => parseFilter({ code: ' ' }, NOW))).toContain('--code');
    expect(usage(() => parseLimit('0'))).toContain('--limit');
    expect(parseLimit(undefined)).toBe(100);
  });
});

describe('parseReplaySelection', () => {
  it('is --all, positions or a filter', () => {
    expect(parseReplaySelection([], { all: true }, NOW)).toEqual({ all: true });
    expect(parseReplaySelection(['0:1', '2:3'], {}, NOW)).toEqual({
      positions: [
        { partition: 0, offset: '1' },
        { partition: 2, offset: '3' },
      ],
    });
    expect(parseReplaySelection([], { code: 'UNKNOWN_TYPE' }, NOW)).toEqual({
      filter: { code: 'UNKNOWN_TYPE' },
    });
  });
  it('refuses nothing and refuses a mix', () => {
    expect(usage(() => parseReplaySelection([], {}, NOW))).toContain('replay needs --all');
    expect(usage(() => parseReplaySelection(['0:1'], { all: true }, NOW))).toContain('not a mix');
    expect(usage(() => parseReplaySelection(['0:1'], { code: 'X' }, NOW))).toContain('not a mix');
    expect(usage(() => parseReplaySelection([], { all: true, since: '1h' }, NOW))).toContain('not a mix');
  });
});

describe('parsePurgeTarget', () => {
  it('is offsets per partition or a time', () => {
    expect(parsePurgeTarget({ toOffset: ['0:5', '1:2'] })).toEqual({
      positions: [
        { partition: 0, offset: '5' },
        { partition: 1, offset: '2' },
      ],
    });
    expect(parsePurgeTarget({ allBefore: '2026-12-01T00:00:00Z' })).toEqual({
      before: new Date('2026-12-01T00:00:00Z'),
    });
  });
  it('refuses neither, both, a partition twice and a bad time', () => {
    expect(usage(() => parsePurgeTarget({}))).toContain('purge needs');
    expect(usage(() => parsePurgeTarget({ toOffset: ['0:1'], allBefore: '2026-12-01T00:00:00Z' }))).toContain(
      'not both',
    );
    expect(usage(() => parsePurgeTarget({ toOffset: ['0:1', '0:2'] }))).toContain('more than once');
    expect(usage(() => parsePurgeTarget({ allBefore: '10m' }))).toContain('--all-before');
  });
});
