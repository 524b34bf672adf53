import { ERROR_CLASSES, errorClassOf, errorClassSql, isErrorClass } from './error-class.js';
import type { ErrorClass } from './error-class.js';

/** last_error texts as the relay writes them (`<reason>: <message>`) and as older rows hold them. */
const ERROR_CLASS_EXAMPLES: [string | null, ErrorClass][] = [
  [
    'broker_unavailable: failed to publish 60 outbox events: Connection error: connect ECONNREFUSED',
    'broker_unavailable',
  ],
  ['timeout: failed to publish 3 outbox events: Request Produce(key: 0, version: 7) timed out', 'timeout'],
  [
    'message_too_large: failed to publish 1 outbox events: The request included a message larger than the max message size the server will accept',
    'message_too_large',
  ],
  [
    'invalid_record: failed to publish 1 outbox events: This record has failed the validation on broker',
    'invalid_record',
  ],
  // The catch-all reason: what kafkajs said decides.
  ['other: failed to publish 60 outbox events: The producer is disconnected', 'broker_unavailable'],
  ['other: failed to publish 2 outbox events: KafkaJSNumberOfRetriesExceeded: Connection timeout', 'timeout'],
  ['other: failed to publish 1 outbox events: unexpected token', 'other'],
  // No prefix (rows written before it, or by hand).
  ['MESSAGE_TOO_LARGE', 'message_too_large'],
  [
    'failed to publish 9 outbox events: There is no leader for this topic-partition (LEADER_NOT_AVAILABLE)',
    'broker_unavailable',
  ],
  ['CORRUPT_MESSAGE', 'invalid_record'],
  ['staged: broker refused the record', 'other'],
  [
    'not_leader: failed to publish 3 outbox events: This server is not the leader for that topic-partition',
    'broker_unavailable',
  ],
  ['authentication: failed to publish 1 outbox events: SASL authentication failed', 'broker_unavailable'],
  ['other: failed to publish 1 outbox events: connect ETIMEDOUT 10.0.0.1:9092', 'broker_unavailable'],
  // The prefix wins over words in the message.
  ['broker_unavailable: failed to publish 1 outbox events: Request timed out', 'broker_unavailable'],
  ['', 'other'],
  [null, 'other'],
];

describe('errorClassOf', () => {
  it.each(ERROR_CLASS_EXAMPLES)('%j → %s', (lastError, expected) => {
    expect(errorClassOf(lastError)).toBe(expected);
  });

  it('only ever answers one of the classes', () => {
    for (const [text] of ERROR_CLASS_EXAMPLES) expect(ERROR_CLASSES).toContain(errorClassOf(text));
  });
});

describe('isErrorClass', () => {
  it('accepts the classes and nothing else', () => {
    for (const c of ERROR_CLASSES) expect(isErrorClass(c)).toBe(true);
    expect(isErrorClass('bogus')).toBe(false);
    expect(isErrorClass('BROKER_UNAVAILABLE')).toBe(false);
  });
});

describe('errorClassSql', () => {
  it('is one CASE over the column with every class, falling back to other', () => {
    const sql = errorClassSql('d.last_error');
    expect(sql).toMatch(/^\(case when d\.last_error ~\* '/);
    expect(sql).toMatch(/ else 'other' end\)$/);
    for (const c of ERROR_CLASSES.filter((x) => x !== 'other')) expect(sql).toContain(`then '${c}'`);
    // Patterns are embedded as SQL literals: none may carry a quote or a backslash.
    expect(sql).not.toMatch(/\\/);
  });
});
