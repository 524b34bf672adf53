import type { ProductEventType } from '@shopstream/shared';
import type { ProductEvent } from './event-envelope.js';
import { EventRejectedError } from './event-errors.js';
import { productCreated } from './handlers/product-created.js';
import { productDeleted } from './handlers/product-deleted.js';
import { productUpdated } from './handlers/product-updated.js';
import type { ProductRow } from './projection.js';

/**
 * One event type's effect, as data: the read-model row the event asks for. The inbox writes the rows
 * of a whole batch with set-based statements (`projectRows`), so a handler does no I/O.
 */
export interface EventHandler {
  type: ProductEventType;
  /** @throws EventRejectedError when the event contradicts its own type. */
  toRow(event: ProductEvent): ProductRow;
}

/** Every handler; a new event type is a new file in handlers/ and one entry here. */
const handlers = new Map<string, EventHandler>(
  [productCreated, productUpdated, productDeleted].map((h) => [h.type, h]),
);

/** @throws EventRejectedError when no handler knows the type. */
export function handlerFor(type: string): EventHandler {
  const handler = handlers.get(type);
  if (!handler) throw new EventRejectedError('UNKNOWN_EVENT_TYPE', `no handler for event type ${type}`);
  return handler;
}
