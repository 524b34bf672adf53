import { createHash } from 'node:crypto';
import { Hono } from 'hono';
import type { Context, MiddlewareHandler } from 'hono';
import { ForbiddenError, PreconditionRequiredError, ValidationError } from '@shopstream/shared';
import type { Product, StoredResponse } from '../domain/ports.js';
import {
  createProductSchema,
  listProductsQuerySchema,
  updateProductSchema,
  uuidSchema,
} from '../domain/product-input.js';
import { createProduct, deleteProduct, getProduct, listProducts, updateProduct } from '../domain/products.js';
import type { ProductDeps } from '../domain/products.js';
import type { AuthVariables } from '../http/auth.js';
import { readHeader, readJson, readParam, readQuery } from '../http/request-input.js';

type Env = { Variables: AuthVariables };

const etag = (p: Product): string => `"${p.version}"`;
const productHeaders = (p: Product): Record<string, string> => ({ ETag: etag(p) });

function productId(c: Context): string {
  return readParam(c, 'id', uuidSchema);
}

/** The version a write expects: `If-Match: "3"` (or `3`, `W/"3"`) or `version` in the body; both must agree. */
function expectedVersion(c: Context, bodyVersion: number | undefined, required: boolean): number | undefined {
  const header = readHeader(c, 'If-Match');
  let fromHeader: number | undefined;
  if (header !== undefined) {
    const match = /^\s*(?:W\/)?"?(\d{1,9})"?\s*$/.exec(header);
    if (!match) {
      throw new ValidationError('invalid If-Match', [
        { field: 'If-Match', message: 'must be a product version like "3"' },
      ]);
    }
    fromHeader = Number(match[1]);
  }
  if (fromHeader !== undefined && bodyVersion !== undefined && fromHeader !== bodyVersion) {
    throw new ValidationError('conflicting versions', [
      { field: 'version', message: `body version ${bodyVersion} differs from If-Match ${fromHeader}` },
    ]);
  }
  const version = fromHeader ?? bodyVersion;
  if (version === undefined && required) {
    throw new PreconditionRequiredError(
      'send the version you are changing: If-Match: "<version>" or "version" in the body',
    );
  }
  return version;
}

const idempotencyKeyPattern = /^[\x21-\x7e]{1,255}$/;

function idempotencyKey(c: Context): string | undefined {
  const key = readHeader(c, 'Idempotency-Key');
  if (key === undefined) return undefined;
  if (!idempotencyKeyPattern.test(key)) {
    throw new ValidationError('invalid Idempotency-Key', [
      { field: 'Idempotency-Key', message: 'must be 1-255 printable ASCII characters' },
    ]);
  }
  return key;
}

/** A stable hash of what the request asks for: key order and whitespace do not matter. */
function requestHash(value: unknown): string {
  const canonical = (v: unknown): unknown =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
        )
      : v;
  return createHash('sha256')
    .update(JSON.stringify(canonical(value)))
    .digest('hex');
}

function send(c: Context, response: StoredResponse, extra: Record<string, string> = {}): Response {
  return c.json(response.body, response.status as 200, { ...response.headers, ...extra });
}

/** Routes of /products: public reads, seller-authenticated writes (`auth` guards the write methods). */
export function createProductRoutes(deps: ProductDeps, auth: MiddlewareHandler<Env>): Hono<Env> {
  const app = new Hono<Env>();
  app.on(['POST', 'PATCH', 'DELETE'], ['/', '/:id'], auth);

  app.post('/', async (c) => {
    const sellerId = c.get('sellerId');
    const key = idempotencyKey(c);
    const input = await readJson(c, createProductSchema);
    if (input.seller_id !== undefined && input.seller_id.toLowerCase() !== sellerId) {
      throw new ForbiddenError('seller_id must be the seller the token belongs to');
    }
    const outcome = await createProduct(
      deps,
      sellerId,
      input,
      key
        ? {
            key,
            requestHash: requestHash(input),
            respond: (p) => ({
              status: 201,
              headers: { Location: `/products/${p.id}`, ...productHeaders(p) },
              body: p,
            }),
          }
        : undefined,
    );
    if (outcome.kind === 'replayed') return send(c, outcome.response, { 'Idempotent-Replayed': 'true' });
    const p = outcome.product;
    return c.json(p, 201, { Location: `/products/${p.id}`, ...productHeaders(p) });
  });

  app.get('/', async (c) => {
    const query = readQuery(c, listProductsQuerySchema);
    const page = await listProducts(deps, {
      ...(query.seller_id ? { sellerId: query.seller_id.toLowerCase() } : {}),
      ...(query.cursor ? { cursor: query.cursor } : {}),
      limit: query.limit,
    });
    return c.json({ items: page.items, next_cursor: page.nextCursor });
  });

  app.get('/:id', async (c) => {
    const product = await getProduct(deps, productId(c));
    return c.json(product, 200, productHeaders(product));
  });

  app.patch('/:id', async (c) => {
    const id = productId(c);
    const { version, ...patch } = await readJson(c, updateProductSchema);
    const expected = expectedVersion(c, version, true)!;
    const product = await updateProduct(deps, c.get('sellerId'), id, expected, patch);
    return c.json(product, 200, productHeaders(product));
  });

  app.delete('/:id', async (c) => {
    const id = productId(c);
    await deleteProduct(deps, c.get('sellerId'), id, expectedVersion(c, undefined, false));
    return c.body(null, 204);
  });

  return app;
}
