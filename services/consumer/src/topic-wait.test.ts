import { recordingLog } from './recording-log.js';
import { StoppedBeforeStartError, TOPIC_WAIT_REMINDER_MS, waitForTopics } from './topic-wait.js';
import type { TopicWaitPorts, TopicWaitSettings, WaitClock } from './topic-wait.js';

const SETTINGS: TopicWaitSettings = {
  groupId: 'g',
  topic: 'product.events',
  dlqTopic: 'product.events.dlq',
  intervalMs: 1_000,
};

/** Time that passes only when the wait sleeps; `onSleep` changes the world between checks. */
function fakeClock(onSleep: (now: number) => void = () => undefined): WaitClock & { slept: number[] } {
  let now = 0;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: async (ms, signal) => {
      signal.throwIfAborted();
      slept.push(ms);
      now += ms;
      onSleep(now);
    },
  };
}

/** Kafka as the wait sees it: the topics it lists, or the error it answers with. */
function fakeKafka(topics: string[], refused: (err: unknown) => boolean = () => false) {
  const waiting = new Map<string, boolean>();
  const state = { topics, error: undefined as Error | undefined, calls: 0 };
  const ports: TopicWaitPorts = {
    listTopics: async () => {
      state.calls++;
      if (state.error) throw state.error;
      return [...state.topics];
    },
    refused,
    setWaiting: (topic, w) => waiting.set(topic, w),
  };
  return { ports, state, waiting };
}

const waitingLines = (lines: ReturnType<typeof recordingLog>['lines']) =>
  lines.filter((l) => l.msg === 'consumer waiting for its topics');

describe('waitForTopics', () => {
  it('returns at once, logging nothing, when both topics exist', async () => {
    const kafka = fakeKafka(['other', SETTINGS.topic, SETTINGS.dlqTopic]);
    const { log, lines } = recordingLog();
    const clock = fakeClock();
    await waitForTopics(SETTINGS, kafka.ports, log, new AbortController().signal, clock);
    expect(lines).toEqual([]);
    expect(clock.slept).toEqual([]);
    expect(Object.fromEntries(kafka.waiting)).toEqual({
      [SETTINGS.topic]: false,
      [SETTINGS.dlqTopic]: false,
    });
  });

  it('waits while the topic is missing: warns once with the reason, checks every interval, warns again when the reminder is due', async () => {
    const kafka = fakeKafka([SETTINGS.dlqTopic]);
    const checks = TOPIC_WAIT_REMINDER_MS / SETTINGS.intervalMs + 5;
    const clock = fakeClock((now) => {
      if (now === checks * SETTINGS.intervalMs) kafka.state.topics.push(SETTINGS.topic);
    });
    const { log, lines } = recordingLog();
    const seen: boolean[] = [];
    const ports = {
      ...kafka.ports,
      setWaiting: (topic: string, w: boolean) => {
        kafka.ports.setWaiting(topic, w);
        if (topic === SETTINGS.topic) seen.push(w);
      },
    };
    await waitForTopics(SETTINGS, ports, log, new AbortController().signal, clock);

    expect(kafka.state.calls).toBe(checks + 1);
    expect(clock.slept).toEqual(Array.from({ length: checks }, () => SETTINGS.intervalMs));
    const waiting = waitingLines(lines);
    expect(waiting).toHaveLength(checks);
    expect(waiting.filter((l) => l.level === 'warn').map((l) => l.fields.waitingForMs)).toEqual([
      0,
      TOPIC_WAIT_REMINDER_MS,
    ]);
    expect(waiting.filter((l) => l.level === 'debug')).toHaveLength(checks - 2);
    const [first] = waiting;
    expect(first!.fields).toMatchObject({
      groupId: 'g',
      topic: SETTINGS.topic,
      dlqTopic: SETTINGS.dlqTopic,
      missing: [SETTINGS.topic],
      retryInMs: SETTINGS.intervalMs,
    });
    expect(first!.fields.reason).toBe(
      'topic product.events does not exist (or the Kafka user may not describe it): group g consumes nothing until it appears; create the topic (the ProductPipeline operator creates it), or check CONSUMER_TOPIC',
    );
    expect(seen).toEqual([...Array.from({ length: checks }, () => true), false]);
    expect(lines.at(-1)).toMatchObject({
      level: 'info',
      msg: 'consumer topics exist',
      fields: { groupId: 'g', waitedMs: checks * SETTINGS.intervalMs },
    });
  });

  it('warns again when what is missing changes, naming the dead-letter topic and CONSUMER_DLQ_TOPIC', async () => {
    const kafka = fakeKafka([]);
    const clock = fakeClock((now) => {
      if (now === 3_000) kafka.state.topics.push(SETTINGS.topic);
      if (now === 6_000) kafka.state.topics.push(SETTINGS.dlqTopic);
    });
    const { log, lines } = recordingLog();
    await waitForTopics(SETTINGS, kafka.ports, log, new AbortController().signal, clock);

    const warnings = waitingLines(lines).filter((l) => l.level === 'warn');
    expect(warnings.map((l) => l.fields.missing)).toEqual([
      [SETTINGS.topic, SETTINGS.dlqTopic],
      [SETTINGS.dlqTopic],
    ]);
    expect(warnings[0]!.fields.reason).toMatch(
      /^topic product\.events does not exist .*; dead-letter topic product\.events\.dlq does not exist either: create it too, or set CONSUMER_DLQ_TOPIC$/,
    );
    expect(warnings[1]!.fields.reason).toBe(
      'dead-letter topic product.events.dlq does not exist (or the Kafka user may not describe it): group g consumes nothing until it appears, since an event at fault itself could be neither applied nor set aside; create the topic, or set CONSUMER_DLQ_TOPIC',
    );
    expect(warnings[1]!.fields.waitingForMs).toBe(3_000);
    expect(Object.fromEntries(kafka.waiting)).toEqual({
      [SETTINGS.topic]: false,
      [SETTINGS.dlqTopic]: false,
    });
  });

  it('waits out a Kafka that does not answer, and then still for a missing topic', async () => {
    const kafka = fakeKafka([SETTINGS.topic]);
    kafka.state.error = Object.assign(new Error('Connection error: connect ECONNREFUSED'), {
      name: 'KafkaJSConnectionError',
    });
    const clock = fakeClock((now) => {
      if (now === 2_000) kafka.state.error = undefined;
      if (now === 4_000) kafka.state.topics.push(SETTINGS.dlqTopic);
    });
    const { log, lines } = recordingLog();
    await waitForTopics(SETTINGS, kafka.ports, log, new AbortController().signal, clock);

    const warnings = waitingLines(lines).filter((l) => l.level === 'warn');
    expect(warnings).toHaveLength(2);
    expect(warnings[0]!.fields).toMatchObject({
      reason:
        'Kafka did not say whether topic product.events and dead-letter topic product.events.dlq exist: group g consumes nothing until it does; retrying',
      err: 'KafkaJSConnectionError: Connection error: connect ECONNREFUSED',
    });
    expect(warnings[1]!.fields).toMatchObject({ missing: [SETTINGS.dlqTopic], waitingForMs: 2_000 });
    expect(kafka.state.calls).toBe(5);
  });

  it('rejects with the refusal itself, after one attempt, when Kafka refuses this client', async () => {
    const refusal = Object.assign(new Error('SASL SCRAM-SHA-512 authentication failed'), {
      name: 'KafkaJSSASLAuthenticationError',
    });
    const kafka = fakeKafka([], (err) => err === refusal);
    kafka.state.error = refusal;
    const { log, lines } = recordingLog();
    const clock = fakeClock();
    await expect(waitForTopics(SETTINGS, kafka.ports, log, new AbortController().signal, clock)).rejects.toBe(
      refusal,
    );
    expect(kafka.state.calls).toBe(1);
    expect(clock.slept).toEqual([]);
    expect(lines).toEqual([]);
  });

  it('ends with StoppedBeforeStartError, without another check, once the signal aborts during the pause', async () => {
    const kafka = fakeKafka([]);
    const stop = new AbortController();
    const { log } = recordingLog();
    const waiting = waitForTopics(SETTINGS, kafka.ports, log, stop.signal, {
      now: () => 0,
      // A pause that only an abort ends: the wait must not need the interval to pass.
      sleep: (_ms, signal) =>
        new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
    });
    await new Promise((resolve) => setImmediate(resolve));
    stop.abort();
    await expect(waiting).rejects.toThrow(StoppedBeforeStartError);
    await expect(waiting).rejects.toThrow('stopped before group g started consuming');
    expect(kafka.state.calls).toBe(1);
  });

  it('ends with StoppedBeforeStartError when the signal aborts while Kafka is being asked', async () => {
    const kafka = fakeKafka([]);
    const stop = new AbortController();
    const { log } = recordingLog();
    const ports = {
      ...kafka.ports,
      listTopics: async () => {
        stop.abort(); // stop() disconnects the admin client: the request fails
        throw new Error('Closed connection');
      },
    };
    await expect(waitForTopics(SETTINGS, ports, log, stop.signal, fakeClock())).rejects.toThrow(
      StoppedBeforeStartError,
    );
  });
});
