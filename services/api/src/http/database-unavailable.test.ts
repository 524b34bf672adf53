import { isDatabaseUnavailable } from './database-unavailable.js';

const withCode = (code: string, message = 'failed'): Error => Object.assign(new Error(message), { code });

describe('isDatabaseUnavailable', () => {
  it.each([
    ['connection refused', withCode('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432')],
    ['connection reset', withCode('ECONNRESET')],
    [
      'a server shutting down (57P01 admin_shutdown)',
      withCode('57P01', 'terminating connection due to administrator command'),
    ],
    [
      'a server starting up (57P03 cannot_connect_now)',
      withCode('57P03', 'the database system is starting up'),
    ],
    ['a connection exception (08006)', withCode('08006')],
    ['too many connections (53300)', withCode('53300')],
    ['a statement timeout (57014)', withCode('57014', 'canceling statement due to statement timeout')],
    [
      'a standby during failover (25006)',
      withCode('25006', 'cannot execute INSERT in a read-only transaction'),
    ],
    ['a terminated connection', new Error('Connection terminated unexpectedly')],
    ['a connect timeout', new Error('Connection terminated due to connection timeout')],
    ['a pg query timeout', new Error('Query read timeout')],
    ['a failed client', new Error('Client has encountered a connection error and is not queryable')],
    ['the pool timing out', new Error('timeout exceeded when trying to connect')],
    ['the cause of another error', new Error('transaction failed', { cause: withCode('ECONNREFUSED') })],
    [
      'one of an AggregateError',
      Object.assign(new AggregateError([withCode('ECONNREFUSED')], 'connect'), {}),
    ],
  ])('is true for %s', (_name, err) => {
    expect(isDatabaseUnavailable(err)).toBe(true);
  });

  it.each([
    ['a unique violation (23505)', withCode('23505', 'duplicate key value violates unique constraint')],
    ['bad input (22P05)', withCode('22P05', 'unsupported Unicode escape sequence')],
    ['a syntax error (42601)', withCode('42601')],
    ['a bug', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['no error at all', undefined],
  ])('is false for %s', (_name, err) => {
    expect(isDatabaseUnavailable(err)).toBe(false);
  });
});
