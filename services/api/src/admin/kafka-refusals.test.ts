import { KafkaRefusedError, KafkaRefusals } from './kafka-refusals.js';

const brokers = ['kafka-0:9093'];
const config = {
  KAFKA_SASL_MECHANISM: 'scram-sha-512',
  KAFKA_SASL_USERNAME: 'shop-api',
  KAFKA_SASL_PASSWORD: 'do-not-print',
  KAFKA_SSL: true,
} as const;
const SENTENCE =
  "Kafka at kafka-0:9093 refused the credentials (SASL SCRAM-SHA-512 authentication failed for user 'shop-api'): check KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD";

/** What kafkajs 2.2 throws for a refused SCRAM login (see services/shared security-failure.test.ts). */
const saslRefused = () =>
  Object.assign(new Error('SASL SCRAM SHA512 authentication failed: Authentication failed'), {
    name: 'KafkaJSSASLAuthenticationError',
  });

function refusalsAt(start: number) {
  let now = start;
  const refusals = new KafkaRefusals(config, brokers, { baseMs: 10_000, maxMs: 40_000, now: () => now });
  return { refusals, advance: (ms: number) => (now += ms) };
}

/** The pause a refusal reported, from its "not tried again before <ISO time>". */
const pauseOf = (err: Error | undefined, from: number): number =>
  Date.parse(/not tried again before (\S+)\)$/.exec(err?.message ?? '')![1]!) - from;

describe('KafkaRefusals', () => {
  const T0 = Date.parse('2026-12-03T12:00:00.000Z');

  it('turns a refused login into the shared sentence, without the password, and pauses connecting', () => {
    const { refusals } = refusalsAt(T0);
    const refusal = refusals.refused(saslRefused());
    expect(refusal).toBeInstanceOf(KafkaRefusedError);
    expect(refusal?.message).toBe(`${SENTENCE} (not tried again before 2026-12-03T12:00:10.000Z)`);
    expect(refusal?.message).not.toContain('do-not-print');
    expect(() => refusals.assertNotPaused()).toThrow(refusal!.message);
  });

  it('lets the next attempt through once the pause is over, and doubles the pause per refusal up to the cap', () => {
    const { refusals, advance } = refusalsAt(T0);
    const pauses: number[] = [];
    let now = T0;
    for (let i = 0; i < 4; i++) {
      const pause = pauseOf(refusals.refused(saslRefused()), now);
      pauses.push(pause);
      advance(pause - 1);
      expect(() => refusals.assertNotPaused()).toThrow(KafkaRefusedError);
      now = advance(1);
      expect(() => refusals.assertNotPaused()).not.toThrow();
    }
    expect(pauses).toEqual([10_000, 20_000, 40_000, 40_000]);
  });

  it('counts refusals that failed together once: the error assertNotPaused threw and a concurrent one', () => {
    const { refusals, advance } = refusalsAt(T0);
    refusals.refused(saslRefused());
    const paused = (() => {
      try {
        refusals.assertNotPaused();
      } catch (err) {
        return err;
      }
    })();
    expect(refusals.refused(paused)).toBe(paused);
    expect(pauseOf(refusals.refused(saslRefused()), T0)).toBe(10_000);
    advance(10_000);
    expect(pauseOf(refusals.refused(saslRefused()), T0 + 10_000)).toBe(20_000);
  });

  it('starts again from the base pause after Kafka took the login', () => {
    const { refusals, advance } = refusalsAt(T0);
    refusals.refused(saslRefused());
    advance(10_000);
    refusals.refused(saslRefused());
    advance(20_000);
    refusals.succeeded();
    expect(() => refusals.assertNotPaused()).not.toThrow();
    expect(pauseOf(refusals.refused(saslRefused()), T0 + 30_000)).toBe(10_000);
  });

  it('leaves other failures (a broker that is away) to the caller and pauses nothing', () => {
    const { refusals } = refusalsAt(T0);
    const away = Object.assign(new Error('Connection error: connect ECONNREFUSED'), {
      name: 'KafkaJSConnectionError',
      code: 'ECONNREFUSED',
    });
    expect(refusals.refused(away)).toBeUndefined();
    expect(() => refusals.assertNotPaused()).not.toThrow();
  });
});
