import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Hono } from 'hono';
import { getAbsoluteFSPath } from 'swagger-ui-dist';
import { buildOpenApiDocument } from '../openapi.js';

const assets = new Set(['swagger-ui.css', 'swagger-ui-bundle.js', 'swagger-ui-standalone-preset.js']);
const contentType = (file: string): string => (file.endsWith('.css') ? 'text/css' : 'text/javascript');

const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>shopstream API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#ui', deepLinking: true });</script>
</body></html>`;

/** `/openapi.json` and an interactive reference at `/docs`, served from local assets (no CDN). */
export function createDocsRoutes(): Hono {
  const app = new Hono();
  const document = JSON.stringify(buildOpenApiDocument());
  app.get('/openapi.json', (c) => c.body(document, 200, { 'Content-Type': 'application/json' }));
  app.get('/docs', (c) => c.html(page));
  app.get('/docs/assets/:file', async (c) => {
    const file = c.req.param('file');
    if (!assets.has(file)) return c.notFound();
    const body = await readFile(join(getAbsoluteFSPath(), file));
    return c.body(body, 200, { 'Content-Type': contentType(file), 'Cache-Control': 'public, max-age=86400' });
  });
  return app;
}
