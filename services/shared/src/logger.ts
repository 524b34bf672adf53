import { pino } from 'pino';
import type { Logger } from 'pino';

export type { Logger };

/**
 * The process logger: pino JSON lines on stdout. Components take `logger.child({ component })`;
 * messages are constant and variables go in fields, so logs can be searched by message.
 */
export function createLogger(options: { level: string; name: string }): Logger {
  return pino({
    name: options.name,
    level: options.level,
    base: { service: options.name },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}
