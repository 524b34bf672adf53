import { z } from 'zod';
import { defaultDlqTopic, parseConfig } from '@shopstream/shared';
import type { Env } from '@shopstream/shared';
import { loadCliConfig } from '../context.js';
import type { CliConfig } from '../context.js';

/** The consumer's own key: where it dead-letters events (unset: `<CONSUMER_TOPIC>.dlq`, as the consumer does). */
const schema = z.object({ CONSUMER_DLQ_TOPIC: z.string().min(1).optional() });

export type DlqCliConfig = CliConfig & { CONSUMER_DLQ_TOPIC: string };

/** @throws ConfigError naming every bad key (exit 2). */
export function loadDlqCliConfig(env: Env): DlqCliConfig {
  const config = loadCliConfig(env);
  const { CONSUMER_DLQ_TOPIC } = parseConfig(schema, env);
  return { ...config, CONSUMER_DLQ_TOPIC: CONSUMER_DLQ_TOPIC ?? defaultDlqTopic(config.CONSUMER_TOPIC) };
}
