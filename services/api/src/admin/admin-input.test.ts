import { AdminInputError, parseEventId, parseOutboxQuery } from './admin-input.js';

const PRODUCT = '0196f3a0-0000-7000-8000-000000000001';

describe('parseOutboxQuery', () => {
  it('reads the filters, accepting the status in any case and ignoring empty fields', () => {
    expect(parseOutboxQuery({ status: 'dead', product: PRODUCT.toUpperCase(), after: '42' })).toEqual({
      status: 'DEAD',
      aggregateId: PRODUCT,
      afterSeq: '42',
    });
    expect(parseOutboxQuery({ status: '', product: ' ' })).toEqual({});
  });

  it('names every bad field at once', () => {
    let error: unknown;
    try {
      parseOutboxQuery({ status: 'LOST', product: 'not-a-uuid', after: '-1' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(AdminInputError);
    expect((error as AdminInputError).problems).toEqual([
      'status "LOST" is unknown: use one of PENDING, PUBLISHED, DEAD, SKIPPED',
      'product "not-a-uuid" is not a UUID',
      'after "-1" is not a sequence number',
    ]);
  });
});

describe('parseEventId', () => {
  it('accepts a UUID and refuses anything else', () => {
    expect(parseEventId(PRODUCT)).toBe(PRODUCT);
    expect(() => parseEventId("1' or '1'='1")).toThrow(AdminInputError);
  });
});
