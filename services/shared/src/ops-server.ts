import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import type { Registry } from 'prom-client';

/** `/healthz`, `/readyz` and `/metrics` for a worker process (relay, consumer). */
export function serveOps(options: {
  host: string;
  port: number;
  registry: Registry;
  ready: () => Promise<boolean>;
}): ReturnType<typeof serve> {
  const app = new Hono();
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) =>
    (await options.ready().catch(() => false))
      ? c.json({ status: 'ready' })
      : c.json({ status: 'not ready' }, 503),
  );
  app.get('/metrics', async (c) =>
    c.body(await options.registry.metrics(), 200, { 'Content-Type': options.registry.contentType }),
  );
  return serve({ fetch: app.fetch, hostname: options.host, port: options.port });
}
