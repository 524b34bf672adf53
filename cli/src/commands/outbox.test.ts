import { CliError } from '../output.js';
import { parseEventId, parseListFilter, parseRequeueTarget } from './outbox.js';

const fails = (fn: () => unknown): CliError => {
  try {
    fn();
  } catch (err) {
    return err as CliError;
  }
  throw new Error('expected a failure');
};

describe('parseListFilter', () => {
  it('accepts statuses in any case and a product id', () => {
    expect(
      parseListFilter({ status: 'dead', product: '0190b6a4-4c7e-7cc1-8a3e-1a2b3c4d5e6f', limit: '5' }),
    ).toEqual({ status: 'DEAD', aggregateId: '0190b6a4-4c7e-7cc1-8a3e-1a2b3c4d5e6f', limit: 5 });
    expect(parseListFilter({})).toEqual({ limit: 100 });
  });
  it('accepts an error class', () => {
    expect(parseListFilter({ status: 'dead', errorClass: 'timeout' })).toEqual({
      status: 'DEAD',
      errorClass: 'timeout',
      limit: 100,
    });
  });
  it.each([
    [{ status: 'lost' }],
    [{ product: 'p1' }],
    [{ limit: '0' }],
    [{ limit: 'ten' }],
    [{ errorClass: 'bogus' }],
  ])('refuses %j as bad usage (exit 2)', (options) => {
    const err = fails(() => parseListFilter(options));
    expect(err).toBeInstanceOf(CliError);
    expect(err.exitCode).toBe(2);
  });
});

describe('parseEventId', () => {
  it('names the command when the id is not a UUID', () => {
    const err = fails(() => parseEventId('skip', 'not-a-uuid'));
    expect(err.exitCode).toBe(2);
    expect(err.message).toMatch(/skip needs an event id \(a UUID\)/);
  });
});

describe('parseRequeueTarget', () => {
  const id = '0190b6a4-4c7e-7cc1-8a3e-1a2b3c4d5e6f';
  it('takes one event id, every DEAD event, or every DEAD event of one error class', () => {
    expect(parseRequeueTarget(id, {})).toEqual({ id });
    expect(parseRequeueTarget(undefined, { all: true })).toEqual({ all: true });
    expect(parseRequeueTarget(undefined, { all: true, errorClass: 'broker_unavailable' })).toEqual({
      all: true,
      errorClass: 'broker_unavailable',
    });
  });
  it.each([
    ['an id with --all', id, { all: true }, /not both/],
    ['--error-class without --all', undefined, { errorClass: 'timeout' }, /--error-class goes with --all/],
    ['--error-class with an id', id, { errorClass: 'timeout' }, /--error-class goes with --all/],
    [
      'an unknown class',
      undefined,
      { all: true, errorClass: 'bogus' },
      /--error-class must be one of broker_unavailable, timeout, message_too_large, invalid_record, other, not bogus/,
    ],
    ['nothing at all', undefined, {}, /requeue needs an event id/],
  ])('refuses %s as bad usage (exit 2)', (_name, eventId, options, message) => {
    const err = fails(() => parseRequeueTarget(eventId, options));
    expect(err).toBeInstanceOf(CliError);
    expect(err.exitCode).toBe(2);
    expect(err.message).toMatch(message);
  });
});
