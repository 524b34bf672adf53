import { Hono } from 'hono';
import type { Registry } from 'prom-client';
import { DependencyUnavailableError } from '@shopstream/shared';

export interface HealthDeps {
  /** Resolves when the database answers; rejects (or times out) otherwise. */
  pingDatabase(): Promise<void>;
  registry: Registry;
}

/** `/healthz` (process alive), `/readyz` (database reachable, else 503) and `/metrics`. */
export function createHealthRoutes(deps: HealthDeps): Hono {
  const app = new Hono();
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    try {
      await deps.pingDatabase();
    } catch (err) {
      throw new DependencyUnavailableError('database is not reachable', { cause: err });
    }
    return c.json({ status: 'ready' });
  });
  app.get('/metrics', async (c) =>
    c.body(await deps.registry.metrics(), 200, { 'Content-Type': deps.registry.contentType }),
  );
  return app;
}
