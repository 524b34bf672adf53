import type { MiddlewareHandler } from 'hono';
import { Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The API's Prometheus registry: default process metrics plus the request histogram of DESIGN §6. */
export function createApiMetrics(): { registry: Registry; middleware: MiddlewareHandler } {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const duration = new Histogram({
    name: 'shopstream_http_request_duration_seconds',
    help: 'HTTP request duration by method, matched route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const middleware: MiddlewareHandler = async (c, next) => {
    const end = duration.startTimer();
    try {
      await next();
    } finally {
      // The matched pattern ("/products/:id"), never the raw path: label values stay bounded.
      const route = c.req.routePath && c.req.routePath !== '/*' ? c.req.routePath : 'unmatched';
      end({ method: c.req.method, route, status: String(c.res.status) });
    }
  };
  return { registry, middleware };
}
