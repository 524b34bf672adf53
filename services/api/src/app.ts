import { Hono } from 'hono';
import { createAdminRoutes, createDisabledAdminRoutes } from './admin/admin-routes.js';
import type { AdminDeps } from './admin/admin-routes.js';
import { requestId } from 'hono/request-id';
import type { Logger } from '@shopstream/shared';
import type { ProductDeps } from './domain/products.js';
import { sellerAuth } from './http/auth.js';
import type { SellerAuthConfig } from './http/auth.js';
import { MAX_BODY_BYTES } from './http/request-input.js';
import { createApiMetrics } from './http/metrics.js';
import { notFound, onError } from './http/problem.js';
import { bodySizeLimit } from './http/body-size-limit.js';
import { requestLogger } from './http/request-logger.js';
import { createDocsRoutes } from './routes/docs.js';
import { createHealthRoutes } from './routes/health.js';
import { createProductRoutes } from './routes/products.js';
import { createSearchRoutes } from './routes/search.js';
import type { SearchIndex } from './domain/product-search.js';

export interface AppDeps {
  logger: Logger;
  products: ProductDeps;
  auth: SellerAuthConfig;
  search: SearchIndex;
  pingDatabase(): Promise<void>;
  /** The admin page; without it (no ADMIN_TOKEN) every /admin URL answers 404 ADMIN_DISABLED. */
  admin?: AdminDeps;
}

/** The API as a Hono app; it never listens, so tests drive it with `app.request()`. */
export function createApp(deps: AppDeps): Hono {
  const metrics = createApiMetrics();
  const app = new Hono();
  app.use(requestId());
  app.use(requestLogger(deps.logger));
  app.use(metrics.middleware);
  app.use(bodySizeLimit(MAX_BODY_BYTES));
  app.onError(onError(deps.logger));
  app.notFound(notFound);

  app.route('/', createHealthRoutes({ pingDatabase: deps.pingDatabase, registry: metrics.registry }));
  app.route('/', createDocsRoutes());
  // Before /products/:id, which would otherwise take "search" for an id.
  app.route('/products/search', createSearchRoutes(deps.search));
  app.route('/products', createProductRoutes(deps.products, sellerAuth(deps.auth)));
  if (deps.admin) app.route('/admin', createAdminRoutes(deps.admin));
  else app.route('/admin', createDisabledAdminRoutes());
  return app;
}
