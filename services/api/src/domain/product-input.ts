import { z } from 'zod';

/**
 * The product input rules (issue 3), written once as zod schemas: the HTTP layer validates with
 * them and the OpenAPI document is generated from them.
 */

const MAX_PRICE_EXCLUSIVE = 10_000_000_000; // numeric(12,2): < 10^10
const decimalPattern = /^\d{1,10}(\.\d{1,2})?$/;

const ISO_4217 = new Set(Intl.supportedValuesOf('currency'));

/** Money as an exact decimal string ("15.99"): from a JSON number or a decimal string. */
export const priceSchema = z
  .union([z.number(), z.string()], { error: 'must be a number or a decimal string' })
  .transform((value, ctx) => {
    const text = typeof value === 'number' ? (Number.isFinite(value) ? String(value) : 'NaN') : value.trim();
    if (!decimalPattern.test(text)) {
      ctx.addIssue({ code: 'custom', message: 'must be a positive decimal with at most 2 decimal places' });
      return z.NEVER;
    }
    const [whole = '0', fraction = ''] = text.split('.');
    const normalized = `${BigInt(whole).toString()}.${fraction.padEnd(2, '0')}`;
    if (Number(normalized) <= 0) {
      ctx.addIssue({ code: 'custom', message: 'must be greater than 0' });
      return z.NEVER;
    }
    if (Number(normalized) >= MAX_PRICE_EXCLUSIVE) {
      ctx.addIssue({ code: 'custom', message: 'must be less than 10000000000' });
      return z.NEVER;
    }
    return normalized;
  })
  .meta({
    description: 'price > 0 with at most 2 decimals, below 10^10; returned as a decimal string',
    examples: [15.99, '15.99'],
  });

const titleSchema = z
  .string({ error: 'must be a string' })
  .trim()
  .min(1, 'must not be empty')
  .max(200, 'must be at most 200 characters');
const descriptionSchema = z
  .string({ error: 'must be a string' })
  .max(5000, 'must be at most 5000 characters')
  .nullable();
const stockSchema = z
  .number({ error: 'must be an integer' })
  .int('must be an integer')
  .min(0, 'must be at least 0')
  .max(1_000_000_000, 'must be at most 1000000000');
const currencySchema = z
  .string({ error: 'must be a string' })
  .regex(/^[A-Z]{3}$/, 'must be 3 upper-case letters')
  .refine((c) => ISO_4217.has(c), 'must be an ISO 4217 currency code');
export const uuidSchema = z.uuid({ error: 'must be a UUID' });

export const createProductSchema = z.strictObject(
  {
    seller_id: uuidSchema.optional().meta({ description: 'must equal the token subject when given' }),
    title: titleSchema,
    description: descriptionSchema.optional(),
    price: priceSchema,
    currency: currencySchema.default('USD'),
    stock: stockSchema,
  },
  { error: (issue) => (issue.code === 'unrecognized_keys' ? 'unknown field' : 'must be a JSON object') },
);
export type CreateProductInput = z.output<typeof createProductSchema>;

export const updateProductSchema = z
  .strictObject(
    {
      title: titleSchema.optional(),
      description: descriptionSchema.optional(),
      price: priceSchema.optional(),
      stock: stockSchema.optional(),
      version: z
        .number()
        .int()
        .min(1)
        .optional()
        .meta({ description: 'expected current version (or If-Match)' }),
    },
    { error: (issue) => (issue.code === 'unrecognized_keys' ? 'unknown field' : 'must be a JSON object') },
  )
  .refine((p) => ['title', 'description', 'price', 'stock'].some((k) => k in p), {
    message: 'must change at least one of title, description, price, stock',
  });
export type UpdateProductInput = z.output<typeof updateProductSchema>;

export const listProductsQuerySchema = z.strictObject(
  {
    seller_id: uuidSchema.optional(),
    limit: z.coerce
      .number({ error: 'must be an integer' })
      .int('must be an integer')
      .min(1)
      .max(100)
      .default(20),
    cursor: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be a cursor returned by a previous page')
      .optional(),
  },
  { error: (issue) => (issue.code === 'unrecognized_keys' ? 'unknown query parameter' : undefined) },
);
export type ListProductsQuery = z.output<typeof listProductsQuerySchema>;

/** The product as the API returns it (and as events carry it). */
export const productSchema = z.object({
  id: z.uuid(),
  seller_id: z.uuid(),
  title: z.string(),
  description: z.string().nullable(),
  price: z.string().meta({ examples: ['15.99'] }),
  currency: z.string(),
  stock: z.number().int(),
  version: z.number().int(),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
  deleted_at: z.iso.datetime().nullable(),
});

export const productPageSchema = z.object({
  items: z.array(productSchema),
  next_cursor: z.string().nullable(),
});
