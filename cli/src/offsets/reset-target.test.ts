import { CliError } from '../output.js';
import { formatPlan, parseResetTarget, refuseActiveGroup } from './reset-target.js';

const usage = (fn: () => unknown): CliError => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CliError);
    return err as CliError;
  }
  throw new Error('expected a CliError');
};

describe('parseResetTarget', () => {
  it.each([
    [{ toEarliest: true }, { earliest: true }],
    [{ toLatest: true }, { latest: true }],
    [{ toDatetime: '2026-01-31T12:00:00.500+01:00' }, { datetime: '2026-01-31T12:00:00.500+01:00' }],
    [{ byDuration: 'PT1H30M' }, { duration: 'PT1H30M' }],
    [{ shiftBy: '-5' }, { shiftBy: -5 }],
    [{ shiftBy: '+3' }, { shiftBy: 3 }],
    [{ toOffset: '42' }, { offset: 42 }],
  ])('maps %j to the operator target %j', (options, target) => {
    expect(parseResetTarget(options)).toEqual(target);
  });

  it('needs exactly one target (exit 2)', () => {
    expect(usage(() => parseResetTarget({})).exitCode).toBe(2);
    const both = usage(() => parseResetTarget({ toEarliest: true, shiftBy: '1' }));
    expect(both.exitCode).toBe(2);
    expect(both.message).toMatch(/--to-earliest and --shift-by/);
  });

  it.each([
    [{ toDatetime: '2026-01-31' }, /RFC 3339/],
    [{ toDatetime: '2026-01-31T12:00:00' }, /RFC 3339/],
    [{ toDatetime: '2026-13-45T99:00:00Z' }, /RFC 3339/],
    [{ byDuration: 'P1M' }, /ISO 8601/],
    [{ byDuration: '1h' }, /ISO 8601/],
    [{ shiftBy: '1.5' }, /integer/],
    [{ toOffset: '-1' }, /non-negative/],
  ])('refuses %j as bad usage', (options, message) => {
    const err = usage(() => parseResetTarget(options));
    expect(err.exitCode).toBe(2);
    expect(err.message).toMatch(message);
  });
});

describe('refuseActiveGroup', () => {
  it('lets an empty group through', () => {
    expect(() => refuseActiveGroup('g', { state: 'Empty', members: [] })).not.toThrow();
  });
  it('refuses with exit 1, naming the members', () => {
    const err = usage(() =>
      refuseActiveGroup('g', {
        state: 'Stable',
        members: [{ clientId: 'consumer-a', clientHost: '/10.0.0.1' }],
      }),
    );
    expect(err.exitCode).toBe(1);
    expect(err.message).toMatch(/group g is Stable with 1 active member\(s\): consumer-a \(\/10\.0\.0\.1\)/);
  });
});

describe('formatPlan', () => {
  it('prints TOPIC PARTITION OLD NEW and says whether anything changed', () => {
    const plan = [
      { topic: 't', partition: 0, oldOffset: null, newOffset: '0' },
      { topic: 't', partition: 1, oldOffset: '12', newOffset: '7' },
    ];
    const dry = formatPlan('g', plan, false);
    expect(dry.split('\n').slice(0, 3)).toEqual([
      'TOPIC  PARTITION  OLD  NEW',
      't      0          -    0',
      't      1          12   7',
    ]);
    expect(dry).toMatch(/dry run: nothing changed/);
    expect(formatPlan('g', plan, true)).toMatch(/offsets of group g reset \(2 partition/);
  });
});
