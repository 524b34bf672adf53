import { CliError } from '../output.js';
import { parseEventId, parseListFilter } from './outbox.js';

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
  it.each([[{ status: 'lost' }], [{ product: 'p1' }], [{ limit: '0' }], [{ limit: 'ten' }]])(
    'refuses %j as bad usage (exit 2)',
    (options) => {
      const err = fails(() => parseListFilter(options));
      expect(err).toBeInstanceOf(CliError);
      expect(err.exitCode).toBe(2);
    },
  );
});

describe('parseEventId', () => {
  it('names the command when the id is not a UUID', () => {
    const err = fails(() => parseEventId('skip', 'not-a-uuid'));
    expect(err.exitCode).toBe(2);
    expect(err.message).toMatch(/skip needs an event id \(a UUID\)/);
  });
});
