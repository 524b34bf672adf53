import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@shopstream/shared';

export interface TopicWaitSettings {
  groupId: string;
  topic: string;
  dlqTopic: string;
  /** Pause between checks while a topic is missing or Kafka does not answer. */
  intervalMs: number;
}

/** Kafka behind ports, so the waiting can be tested without a broker. */
export interface TopicWaitPorts {
  /** The topics Kafka shows this client (connecting first when needed). */
  listTopics(): Promise<string[]>;
  /** Whether Kafka refused this client (credentials, certificates): no wait can fix that. */
  refused(err: unknown): boolean;
  /** `shopstream_consumer_waiting_for_topic` of one of the two topics. */
  setWaiting(topic: string, waiting: boolean): void;
}

export interface WaitClock {
  now(): number;
  /** Rejects when `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

const systemClock: WaitClock = {
  now: () => Date.now(),
  sleep: async (ms, signal) => {
    await sleep(ms, undefined, { signal });
  },
};

/**
 * An unchanged situation is logged at warn again after this long (debug in between): an operator
 * looking at a recent window of logs still finds the reason, and a long wait does not flood them.
 */
export const TOPIC_WAIT_REMINDER_MS = 60_000;

/** Start-up ended because the process is stopping (its `signal` aborted): not a failure. */
export class StoppedBeforeStartError extends Error {
  constructor(groupId: string) {
    super(`stopped before group ${groupId} started consuming`);
    this.name = 'StoppedBeforeStartError';
  }
}

/** What one check found: the topics missing, or why Kafka could not say. */
type Check = { missing: string[] } | { err: unknown };

interface Situation {
  /** Equal keys: the same situation, not logged at warn again before the reminder is due. */
  key: string;
  /** `reason`, and what it was found from (the missing topics, or Kafka's error). */
  fields: { reason: string; missing?: string[]; err?: string };
}

const hiddenToo = 'or the Kafka user may not describe it';

/** Why the group consumes nothing yet, and what fixes it: the `reason` of the log line. */
function waitReason({ groupId, topic, dlqTopic }: TopicWaitSettings, missing: string[]): string {
  const dlqMissing = missing.includes(dlqTopic);
  if (!missing.includes(topic)) {
    return `dead-letter topic ${dlqTopic} does not exist (${hiddenToo}): group ${groupId} consumes nothing until it appears, since an event at fault itself could be neither applied nor set aside; create the topic, or set CONSUMER_DLQ_TOPIC`;
  }
  const sentence = `topic ${topic} does not exist (${hiddenToo}): group ${groupId} consumes nothing until it appears; create the topic (the ProductPipeline operator creates it), or check CONSUMER_TOPIC`;
  return dlqMissing
    ? `${sentence}; dead-letter topic ${dlqTopic} does not exist either: create it too, or set CONSUMER_DLQ_TOPIC`
    : sentence;
}

function situationOf(settings: TopicWaitSettings, check: Check): Situation {
  if ('missing' in check) {
    return {
      key: `missing:${check.missing.join(',')}`,
      fields: { reason: waitReason(settings, check.missing), missing: check.missing },
    };
  }
  const { err } = check;
  const name = err instanceof Error ? err.name : typeof err;
  return {
    key: `unanswered:${name}`,
    fields: {
      reason: `Kafka did not say whether topic ${settings.topic} and dead-letter topic ${settings.dlqTopic} exist: group ${settings.groupId} consumes nothing until it does; retrying`,
      err: String(err),
    },
  };
}

const WAITING = 'consumer waiting for its topics';

/** The fields every line of the wait carries. */
const where = ({ groupId, topic, dlqTopic }: TopicWaitSettings) => ({ groupId, topic, dlqTopic });

/**
 * Returns once both the topic and the dead-letter topic exist. Until then it checks every
 * `intervalMs`, exports `shopstream_consumer_waiting_for_topic`, and logs the reason at warn when it
 * starts or changes and again every `TOPIC_WAIT_REMINDER_MS` (debug in between). Kafka not
 * answering is waited out too; Kafka refusing this client is not.
 * @throws the refusal as it came (see `ports.refused`); StoppedBeforeStartError once `signal` aborts.
 */
export async function waitForTopics(
  settings: TopicWaitSettings,
  ports: TopicWaitPorts,
  log: Logger,
  signal: AbortSignal,
  clock: WaitClock = systemClock,
): Promise<void> {
  const { topic, dlqTopic, intervalMs } = settings;
  const since = clock.now();
  let logged: { key: string; at: number } | undefined;
  for (;;) {
    if (signal.aborted) throw new StoppedBeforeStartError(settings.groupId);
    const check = await ports.listTopics().then(
      (topics): Check => ({ missing: [topic, dlqTopic].filter((t) => !topics.includes(t)) }),
      (err: unknown): Check => {
        if (ports.refused(err)) throw err;
        return { err };
      },
    );
    if (signal.aborted) throw new StoppedBeforeStartError(settings.groupId);
    if ('missing' in check) {
      for (const t of [topic, dlqTopic]) ports.setWaiting(t, check.missing.includes(t));
      if (check.missing.length === 0) {
        if (logged) log.info({ ...where(settings), waitedMs: clock.now() - since }, 'consumer topics exist');
        return;
      }
    }
    const situation = situationOf(settings, check);
    const now = clock.now();
    const due = !logged || logged.key !== situation.key || now - logged.at >= TOPIC_WAIT_REMINDER_MS;
    if (due) logged = { key: situation.key, at: now };
    const line = {
      ...where(settings),
      ...situation.fields,
      waitingForMs: now - since,
      retryInMs: intervalMs,
    };
    if (due) log.warn(line, WAITING);
    else log.debug(line, WAITING);
    try {
      await clock.sleep(intervalMs, signal);
    } catch (err) {
      if (signal.aborted) throw new StoppedBeforeStartError(settings.groupId);
      throw err;
    }
  }
}
