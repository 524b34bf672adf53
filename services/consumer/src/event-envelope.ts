import { z } from 'zod';
import { PRODUCT_EVENT_TYPES } from '@shopstream/shared';
import type { ProductEventType, ProductSnapshot } from '@shopstream/shared';
import { EventRejectedError } from './event-errors.js';

/** A product event as the consumer applies it: CloudEvents headers checked, data parsed and validated. */
export interface ProductEvent {
  id: string;
  type: ProductEventType;
  time: Date;
  aggregateVersion: number;
  data: ProductSnapshot;
}

const iso = z.iso.datetime({ offset: true });
const snapshotSchema = z.object({
  id: z.uuid(),
  seller_id: z.uuid(),
  title: z.string().min(1).max(200),
  description: z.string().nullable(),
  price: z.string().regex(/^\d{1,10}\.\d{2}$/),
  currency: z.string().length(3),
  stock: z.number().int().min(0),
  version: z.number().int().min(1),
  created_at: iso,
  updated_at: iso,
  deleted_at: iso.nullable(),
});

/**
 * Reads one Kafka record in CloudEvents binary mode (DESIGN §3).
 * @throws EventRejectedError naming what is wrong: envelope, JSON, type, or data schema.
 */
export function parseProductEvent(
  headers: Record<string, string | undefined>,
  value: Buffer | null,
): ProductEvent {
  const id = headers.ce_id;
  const type = headers.ce_type;
  if (!id || !z.uuid().safeParse(id).success)
    throw new EventRejectedError('BAD_ENVELOPE', `ce_id missing or not a UUID: ${id}`);
  if (!type || !(PRODUCT_EVENT_TYPES as readonly string[]).includes(type)) {
    throw new EventRejectedError(
      'UNKNOWN_EVENT_TYPE',
      `unknown event type ${type ?? '(none)'} for event ${id}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(value?.toString('utf8') ?? '');
  } catch (err) {
    throw new EventRejectedError('BAD_PAYLOAD', `event ${id} payload is not JSON`, { cause: err });
  }
  const parsed = snapshotSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'data'}: ${i.message}`).join('; ');
    throw new EventRejectedError(
      'SCHEMA_VIOLATION',
      `event ${id} data violates the product schema: ${issues}`,
    );
  }
  const version = Number(headers.ce_aggregateversion ?? parsed.data.version);
  if (version !== parsed.data.version) {
    throw new EventRejectedError(
      'BAD_ENVELOPE',
      `event ${id}: ce_aggregateversion ${version} differs from data.version`,
    );
  }
  const time = new Date(headers.ce_time ?? parsed.data.updated_at);
  if (Number.isNaN(time.getTime()))
    throw new EventRejectedError('BAD_ENVELOPE', `event ${id}: ce_time is not a time`);
  return { id, type: type as ProductEventType, time, aggregateVersion: version, data: parsed.data };
}
