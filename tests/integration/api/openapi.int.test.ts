import { Validator } from '@seriousme/openapi-schema-validator';
import { startApi } from './api-under-test.js';
import type { ApiUnderTest } from './api-under-test.js';

describe('the OpenAPI document', () => {
  let api: ApiUnderTest;
  beforeAll(async () => {
    api = await startApi();
  });
  afterAll(() => api.close());

  it('validates as OpenAPI 3.1 and lists every route', async () => {
    const res = await api.request('/openapi.json');
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    const validator = new Validator();
    const result = await validator.validate(doc);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');

    const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((k) => ['get', 'post', 'patch', 'delete', 'put'].includes(k))
        .map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(operations.sort()).toEqual(
      [
        'POST /products',
        'GET /products',
        'GET /products/search',
        'GET /products/{id}',
        'PATCH /products/{id}',
        'DELETE /products/{id}',
        'GET /healthz',
        'GET /readyz',
        'GET /metrics',
      ].sort(),
    );
  });

  it('describes the create body from the same rules the handler enforces', async () => {
    const doc = (await (await api.request('/openapi.json')).json()) as {
      components: {
        schemas: {
          ProductCreate: {
            required: string[];
            additionalProperties: boolean;
            properties: Record<string, { maxLength?: number }>;
          };
        };
      };
    };
    const create = doc.components.schemas.ProductCreate;
    expect(create.required.sort()).toEqual(['price', 'stock', 'title']);
    expect(create.additionalProperties).toBe(false);
    expect(create.properties.title?.maxLength).toBe(200);
  });

  it('serves the interactive reference and its assets locally', async () => {
    const page = await api.request('/docs');
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('/openapi.json');
    const bundle = await api.request('/docs/assets/swagger-ui-bundle.js');
    expect(bundle.status).toBe(200);
    expect((await bundle.arrayBuffer()).byteLength).toBeGreaterThan(100_000);
  });
});
