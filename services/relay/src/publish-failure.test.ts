import {
  KafkaJSConnectionError,
  KafkaJSError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
} from 'kafkajs';
import { classifyPublishFailure, isRecordFault } from './publish-failure.js';

const protocolError = (type: string, code: number): Error =>
  Object.assign(new KafkaJSProtocolError(`broker says ${type}`), { type, code });

describe('classifyPublishFailure', () => {
  it('blames the record only for errors about the record', () => {
    expect(classifyPublishFailure(protocolError('MESSAGE_TOO_LARGE', 10))).toBe('message_too_large');
    expect(classifyPublishFailure(protocolError('CORRUPT_MESSAGE', 2))).toBe('invalid_record');
    const wrapped = new KafkaJSNumberOfRetriesExceeded(protocolError('INVALID_RECORD', 87), {
      retryCount: 3,
      retryTime: 100,
    });
    expect(classifyPublishFailure(wrapped)).toBe('invalid_record');
    expect(isRecordFault(classifyPublishFailure(wrapped))).toBe(true);
  });

  it('blames the environment for broker, network, leadership, topic and credential errors', () => {
    const cases: [unknown, string][] = [
      [
        new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9092'),
        'broker_unavailable',
      ],
      [new KafkaJSError('The producer is disconnected'), 'broker_unavailable'],
      [protocolError('NOT_LEADER_OR_FOLLOWER', 6), 'not_leader'],
      [protocolError('UNKNOWN_TOPIC_OR_PARTITION', 3), 'unknown_topic'],
      [protocolError('TOPIC_AUTHORIZATION_FAILED', 29), 'authentication'],
      [protocolError('REQUEST_TIMED_OUT', 7), 'timeout'],
      [new Error('something nobody has seen before'), 'other'],
    ];
    for (const [err, reason] of cases) {
      expect(classifyPublishFailure(err)).toBe(reason);
      expect(isRecordFault(classifyPublishFailure(err))).toBe(false);
    }
  });

  it('reads through retry wrappers to the innermost cause', () => {
    const retried = new KafkaJSNumberOfRetriesExceeded(new KafkaJSConnectionError('Connection closed'), {
      retryCount: 0,
      retryTime: 0,
    });
    expect(classifyPublishFailure(retried)).toBe('broker_unavailable');
  });
});
