import type { MiddlewareHandler } from 'hono';
import type { Logger } from '@shopstream/shared';

export interface LoggerVariables {
  requestId: string;
  log: Logger;
}

/** One child logger per request carrying its id, and one line per completed request. */
export function requestLogger(logger: Logger): MiddlewareHandler<{ Variables: LoggerVariables }> {
  return async (c, next) => {
    const log = logger.child({ requestId: c.get('requestId') });
    c.set('log', log);
    const started = performance.now();
    await next();
    log.info(
      {
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        durationMs: Math.round((performance.now() - started) * 10) / 10,
      },
      'request completed',
    );
  };
}
