import {
  DLQ_REPLAYED_AT_HEADER,
  defaultDlqTopic,
  matchesDlqFilter,
  replayMessage,
  toDlqEntry,
} from './dlq-record.js';
import type { FetchedRecord } from '../kafka/partition-reader.js';

const fetched = (overrides: Partial<FetchedRecord> = {}): FetchedRecord => ({
  partition: 1,
  offset: '7',
  timestamp: String(Date.parse('2026-12-01T10:00:00.000Z')),
  key: Buffer.from('product-1'),
  value: Buffer.from('{"id":"product-1"}'),
  headers: {
    ce_id: Buffer.from('event-1'),
    ce_type: Buffer.from('product.created'),
    'content-type': Buffer.from('application/json'),
    dlq_original_topic: Buffer.from('product.events'),
    dlq_original_partition: Buffer.from('2'),
    dlq_original_offset: Buffer.from('41'),
    dlq_error_code: Buffer.from('UNKNOWN_EVENT_TYPE'),
    dlq_error_message: Buffer.from('no handler for product.created'),
    dlq_failed_at: Buffer.from('2026-12-01T10:00:00.000Z'),
  },
  ...overrides,
});

describe('toDlqEntry', () => {
  it('reads the place, the original event and the dlq_* headers', () => {
    const { record } = toDlqEntry(fetched());
    expect(record).toMatchObject({
      partition: 1,
      offset: '7',
      timestamp: '2026-12-01T10:00:00.000Z',
      key: 'product-1',
      keyEncoding: 'utf8',
      value: '{"id":"product-1"}',
      valueEncoding: 'utf8',
      originalTopic: 'product.events',
      originalPartition: 2,
      originalOffset: '41',
      errorCode: 'UNKNOWN_EVENT_TYPE',
      errorMessage: 'no handler for product.created',
      ceType: 'product.created',
      ceId: 'event-1',
    });
    expect(record.headers['content-type']).toBe('application/json');
  });

  it('shows bytes that are not UTF-8 as base64, a null key as null, and repeated headers as a list', () => {
    const { record } = toDlqEntry(
      fetched({
        key: null,
        value: Buffer.from([0xff, 0xfe, 0x00]),
        headers: { x: [Buffer.from('a'), Buffer.from('b')] },
      }),
    );
    expect(record).toMatchObject({ key: null, value: '//4A', valueEncoding: 'base64', originalTopic: null });
    expect(record.headers.x).toEqual(['a', 'b']);
  });
});

describe('matchesDlqFilter', () => {
  const { record } = toDlqEntry(fetched());
  it.each([
    [{}, true],
    [{ partition: 1 }, true],
    [{ partition: 0 }, false],
    [{ code: 'UNKNOWN_EVENT_TYPE' }, true],
    [{ code: 'NOT_JSON' }, false],
    [{ originalTopic: 'product.events' }, true],
    [{ originalTopic: 'other' }, false],
    [{ since: new Date('2026-12-01T10:00:00.000Z') }, true],
    [{ since: new Date('2026-12-01T10:00:00.001Z') }, false],
  ])('%o → %p', (filter, expected) => {
    expect(matchesDlqFilter(record, filter)).toBe(expected);
  });
});

describe('replayMessage', () => {
  it('keeps the original key, value and headers byte for byte, drops dlq_* and adds dlq_replayed_at', () => {
    const raw = fetched({ headers: { ...fetched().headers, dlq_replayed_at: Buffer.from('earlier') } });
    const message = replayMessage(raw, new Date('2026-12-02T00:00:00.000Z'));
    expect(message.key).toBe(raw.key);
    expect(message.value).toBe(raw.value);
    expect(Object.keys(message.headers).sort()).toEqual([
      'ce_id',
      'ce_type',
      'content-type',
      DLQ_REPLAYED_AT_HEADER,
    ]);
    expect(message.headers.ce_id).toBe(raw.headers.ce_id);
    expect(message.headers[DLQ_REPLAYED_AT_HEADER]).toBe('2026-12-02T00:00:00.000Z');
  });
});

it("names the DLQ topic as the consumer does: '<topic>.dlq'", () => {
  expect(defaultDlqTopic('product.events')).toBe('product.events.dlq');
});
