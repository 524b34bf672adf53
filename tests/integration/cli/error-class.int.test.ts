import pg from 'pg';
import { ERROR_CLASSES, errorClassOf, errorClassSql } from '@shopstream/shared';
import { infraEnv } from '../../harness/index.js';

/**
 * The error class of a DEAD row is computed in two places: in PostgreSQL (errorClassSql, for
 * `outbox requeue --all --error-class`, `outbox list --error-class` and diagnose's grouping) and in
 * TypeScript (errorClassOf). Both must put every last_error in the same class, or the fix diagnose
 * prints would requeue other rows than the ones it counted.
 */
describe('error classes of DEAD rows', () => {
  const texts: (string | null)[] = [
    null,
    '',
    'broker_unavailable: failed to publish 60 outbox events: Connection error',
    'BROKER_UNAVAILABLE: upper-case prefix',
    'timeout: failed to publish 3 outbox events: Request Produce(key: 0, version: 7) timed out',
    'message_too_large: failed to publish 1 outbox events: MESSAGE_TOO_LARGE',
    'invalid_record: failed to publish 1 outbox events: CORRUPT_MESSAGE',
    'not_leader: failed to publish 3 outbox events: NOT_LEADER_OR_FOLLOWER',
    'authentication: failed to publish 1 outbox events: SASL authentication failed',
    'unknown_topic: failed to publish 1 outbox events: This server does not host this topic-partition',
    'other: failed to publish 60 outbox events: The producer is disconnected',
    'other: failed to publish 2 outbox events: Connection timeout',
    'other: connect ETIMEDOUT 10.0.0.1:9092',
    'other: read ECONNRESET',
    'The request included a message larger than the max message size the server will accept (too large)',
    'RECORD_LIST_TOO_LARGE',
    'There is no leader for this topic-partition (LEADER_NOT_AVAILABLE)',
    'Broker not available',
    'test: broker refused',
    'staged: broker refused the record',
    "quote ' and backslash \\ in the text",
    'failed to publish: timeout: nested prefix is not a prefix',
  ];
  let pool: pg.Pool;

  beforeAll(() => {
    pool = new pg.Pool({ connectionString: infraEnv().databaseUrl, max: 1 });
  });
  afterAll(async () => {
    await pool.end();
  });

  it('PostgreSQL and errorClassOf agree on every text, and every class occurs', async () => {
    const { rows } = await pool.query<{ text: string | null; error_class: string }>(
      `select t.text, ${errorClassSql('t.text')} as error_class
       from unnest($1::text[]) with ordinality as t(text, n) order by t.n`,
      [texts],
    );
    expect(rows.map((r) => [r.text, r.error_class])).toEqual(texts.map((t) => [t, errorClassOf(t)]));
    expect(new Set(rows.map((r) => r.error_class))).toEqual(new Set(ERROR_CLASSES));
  });
});
