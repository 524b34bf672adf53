import { DATA_SQLSTATES, EventRejectedError, classifyFailure, dataRejection } from './event-errors.js';

/** An error shaped like node-postgres' DatabaseError. */
const pgError = (code: string, message = `failed with ${code}`): Error =>
  Object.assign(new Error(message), { code });

describe('classifyFailure', () => {
  it.each([
    ['BAD_ENVELOPE'],
    ['BAD_PAYLOAD'],
    ['UNKNOWN_EVENT_TYPE'],
    ['SCHEMA_VIOLATION'],
    ['DATA_REJECTED'],
  ] as const)('condemns the event for an EventRejectedError %s', (code) => {
    const err = new EventRejectedError(code, 'bad');
    expect(classifyFailure(err)).toEqual({ kind: 'rejected', error: err });
  });

  it.each([
    ['25006', 'read-only transaction'],
    ['42P01', 'undefined table'],
    ['42703', 'undefined column'],
    ['42501', 'insufficient privilege'],
    ['57014', 'statement timeout'],
    ['55P03', 'lock not available'],
    ['57P01', 'admin shutdown'],
    ['08006', 'connection failure'],
    ['40001', 'serialization failure'],
    ['40P01', 'deadlock'],
    ['23502', 'not null violation (a column the handler does not fill)'],
    ['23505', 'unique violation'],
    ['22012', 'division by zero in a handler'],
    ['P0001', 'raised by a trigger'],
  ])('blames the environment for SQLSTATE %s (%s) and names it', (code) => {
    const failure = classifyFailure(pgError(code));
    expect(failure).toMatchObject({ kind: 'environment', sqlState: code });
    expect(failure.kind === 'environment' && failure.cause).toContain(code);
  });

  it.each([
    ['a TypeError thrown by a handler', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['a connection refused', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })],
    ['a client-side query timeout', new Error('Query read timeout')],
    ['a Kafka error', Object.assign(new Error('broker gone'), { type: 'LEADER_NOT_AVAILABLE' })],
    ['a thrown string', 'boom'],
  ])('blames the environment for %s', (_what, err) => {
    const failure = classifyFailure(err);
    expect(failure.kind).toBe('environment');
    expect(failure).not.toHaveProperty('sqlState');
  });

  it('names the cause with the error class, its code and message', () => {
    const failure = classifyFailure(new TypeError('x is not a function'));
    expect(failure).toEqual({ kind: 'environment', cause: 'TypeError: x is not a function' });
    // node-postgres names its DatabaseError 'error'; the class name says more.
    class DatabaseError extends Error {}
    const pg = Object.assign(new DatabaseError('relation "product_search" does not exist'), {
      name: 'error',
      code: '42P01',
    });
    expect(classifyFailure(pg)).toEqual({
      kind: 'environment',
      sqlState: '42P01',
      cause: 'DatabaseError 42P01: relation "product_search" does not exist',
    });
  });
});

describe('dataRejection', () => {
  it.each(Object.entries(DATA_SQLSTATES))(
    'turns SQLSTATE %s (%s) into DATA_REJECTED naming the event',
    (code, name) => {
      const rejection = dataRejection(pgError(code), 'e-1');
      expect(rejection).toBeInstanceOf(EventRejectedError);
      expect(rejection?.code).toBe('DATA_REJECTED');
      expect(rejection?.message).toContain(`event e-1 was refused by the database (${code} ${name})`);
    },
  );

  it('keeps the list short: exactly the five named data SQLSTATEs', () => {
    expect(Object.keys(DATA_SQLSTATES).sort()).toEqual(['22001', '22003', '22021', '22P02', '23514']);
  });

  it.each(['23502', '25006', '42P01', '57014', 'P0001'])('leaves SQLSTATE %s to the environment', (code) => {
    expect(dataRejection(pgError(code), 'e-1')).toBeUndefined();
  });

  it('leaves errors without a SQLSTATE to the environment', () => {
    expect(dataRejection(new TypeError('no'), 'e-1')).toBeUndefined();
    expect(dataRejection(Object.assign(new Error('x'), { code: 'ECONNRESET' }), 'e-1')).toBeUndefined();
  });
});
