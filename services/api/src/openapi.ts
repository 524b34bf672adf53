import { z } from 'zod';
import { searchQuerySchema } from './domain/product-search.js';
import {
  createProductSchema,
  listProductsQuerySchema,
  productPageSchema,
  productSchema,
  updateProductSchema,
} from './domain/product-input.js';

const problemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  code: z.string(),
  instance: z.string().optional(),
  errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
});

/** JSON Schema 2020-12 (OpenAPI 3.1's dialect) of what a client sends or receives. */
const jsonSchema = (schema: z.ZodType, io: 'input' | 'output') => {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  return rest;
};

const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
});
const json = (ref: string) => ({ 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } });

const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } };
const ifMatch = (required: boolean) => ({
  name: 'If-Match',
  in: 'header',
  required: false,
  description: required
    ? 'the version being changed, e.g. "3" (or send "version" in the body); 428 without either'
    : 'optional: the version being deleted',
  schema: { type: 'string' },
});

/**
 * The OpenAPI 3.1 document, generated from the same zod schemas the handlers validate with, so
 * the document cannot drift from what the API accepts.
 */
export function buildOpenApiDocument(serverUrl?: string): Record<string, unknown> {
  const listQuery = jsonSchema(listProductsQuerySchema, 'input') as { properties: Record<string, unknown> };
  const searchQuery = jsonSchema(searchQuerySchema, 'input') as {
    properties: Record<string, unknown>;
    required?: string[];
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'shopstream product API',
      version: '0.1.0',
      description:
        'Sellers create and change products; every write commits its event (CloudEvents) in the same transaction.',
    },
    ...(serverUrl ? { servers: [{ url: serverUrl }] } : {}),
    components: {
      securitySchemes: { sellerToken: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: {
        ProductCreate: jsonSchema(createProductSchema, 'input'),
        ProductUpdate: jsonSchema(updateProductSchema, 'input'),
        Product: jsonSchema(productSchema, 'output'),
        ProductPage: jsonSchema(productPageSchema, 'output'),
        Problem: jsonSchema(problemSchema, 'output'),
      },
    },
    paths: {
      '/products': {
        post: {
          operationId: 'createProduct',
          summary: 'Create a product (and its product.created event)',
          security: [{ sellerToken: [] }],
          parameters: [
            {
              name: 'Idempotency-Key',
              in: 'header',
              required: false,
              description:
                'replays the original response for 24 h; a different body with the same key is 422',
              schema: { type: 'string', maxLength: 255 },
            },
          ],
          requestBody: { required: true, content: json('ProductCreate') },
          responses: {
            '201': {
              description: 'created',
              headers: { Location: { schema: { type: 'string' } } },
              content: json('Product'),
            },
            '400': problem('malformed JSON or invalid fields (every offending field is listed)'),
            '401': problem('missing, expired or forged token'),
            '403': problem('seller_id differs from the token subject'),
            '413': problem('body over 64 KiB'),
            '415': problem('content type is not JSON'),
            '422': problem('idempotency key reused with a different body'),
          },
        },
        get: {
          operationId: 'listProducts',
          summary: 'List products (keyset pagination by id)',
          parameters: Object.entries(listQuery.properties).map(([name, schema]) => ({
            name,
            in: 'query',
            schema,
          })),
          responses: {
            '200': { description: 'a page', content: json('ProductPage') },
            '400': problem('invalid query'),
          },
        },
      },
      '/products/search': {
        get: {
          operationId: 'searchProducts',
          summary: 'Full-text search over the read model the consumer maintains',
          parameters: Object.entries(searchQuery.properties).map(([name, schema]) => ({
            name,
            in: 'query',
            required: searchQuery.required?.includes(name) ?? false,
            schema,
          })),
          responses: {
            '200': {
              description: 'ranked matches',
              headers: {
                'Read-Model-Age-Seconds': {
                  description: 'seconds since the newest event the read model applied was committed',
                  schema: { type: 'string' },
                },
              },
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    properties: { items: { type: 'array', items: { $ref: '#/components/schemas/Product' } } },
                  },
                },
              },
            },
            '400': problem('invalid query'),
          },
        },
      },
      '/products/{id}': {
        parameters: [idParam],
        get: {
          operationId: 'getProduct',
          summary: 'Read a product',
          responses: {
            '200': { description: 'the product', content: json('Product') },
            '404': problem('unknown or deleted'),
          },
        },
        patch: {
          operationId: 'updateProduct',
          summary: 'Change a product at a known version (optimistic lock)',
          security: [{ sellerToken: [] }],
          parameters: [ifMatch(true)],
          requestBody: { required: true, content: json('ProductUpdate') },
          responses: {
            '200': { description: 'updated', content: json('Product') },
            '400': problem('invalid fields'),
            '401': problem('missing, expired or forged token'),
            '403': problem("another seller's product"),
            '404': problem('unknown or deleted'),
            '409': problem('stale version'),
            '428': problem('no version given'),
          },
        },
        delete: {
          operationId: 'deleteProduct',
          summary: 'Soft-delete a product (and emit product.deleted)',
          security: [{ sellerToken: [] }],
          parameters: [ifMatch(false)],
          responses: {
            '204': { description: 'deleted' },
            '401': problem('missing, expired or forged token'),
            '403': problem("another seller's product"),
            '404': problem('unknown or deleted'),
            '409': problem('stale version'),
          },
        },
      },
      '/healthz': {
        get: {
          operationId: 'healthz',
          summary: 'Process alive',
          responses: { '200': { description: 'alive' } },
        },
      },
      '/readyz': {
        get: {
          operationId: 'readyz',
          summary: 'Database reachable',
          responses: { '200': { description: 'ready' }, '503': problem('database unreachable') },
        },
      },
      '/metrics': {
        get: {
          operationId: 'metrics',
          summary: 'Prometheus metrics',
          responses: { '200': { description: 'text exposition' } },
        },
      },
    },
  };
}
