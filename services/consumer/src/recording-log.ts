import type { Logger } from '@shopstream/shared';

/** One line a `recordingLog` kept. */
export interface LogLine {
  level: string;
  msg: string;
  fields: Record<string, unknown>;
}

/** A logger that keeps its lines (a port of ours, not pino), for unit tests that assert on logs. */
export function recordingLog(): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at =
    (level: string) =>
    (fields: Record<string, unknown>, msg: string): void => {
      lines.push({ level, msg, fields });
    };
  const log = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { log: log as unknown as Logger, lines };
}
