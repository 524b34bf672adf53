import { OUTBOX_STATUSES, isUuid } from '@shopstream/shared';
import type { OutboxStatus } from '@shopstream/shared';

/** Bad input on an admin page: rendered as a 400 page naming every problem; nothing is changed. */
export class AdminInputError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
    this.name = 'AdminInputError';
  }
}

export interface OutboxQuery {
  status?: OutboxStatus;
  aggregateId?: string;
  afterSeq?: string;
}

/**
 * The outbox browser's filters from the query string. Empty fields mean "any" (what an unfilled
 * form submits); the status is accepted in any case because people type `dead`.
 * @throws AdminInputError naming each bad field.
 */
export function parseOutboxQuery(query: Record<string, string | undefined>): OutboxQuery {
  const problems: string[] = [];
  const out: OutboxQuery = {};
  const status = query.status?.trim();
  if (status) {
    const upper = status.toUpperCase();
    if ((OUTBOX_STATUSES as readonly string[]).includes(upper)) out.status = upper as OutboxStatus;
    else problems.push(`status "${status}" is unknown: use one of ${OUTBOX_STATUSES.join(', ')}`);
  }
  const product = query.product?.trim();
  if (product) {
    if (isUuid(product)) out.aggregateId = product.toLowerCase();
    else problems.push(`product "${product}" is not a UUID`);
  }
  const after = query.after?.trim();
  if (after) {
    if (/^\d{1,18}$/.test(after)) out.afterSeq = after;
    else problems.push(`after "${after}" is not a sequence number`);
  }
  if (problems.length) throw new AdminInputError(problems);
  return out;
}

/** @throws AdminInputError when `id` is not an event id (a UUID). */
export function parseEventId(id: string): string {
  if (!isUuid(id)) throw new AdminInputError([`event id "${id}" is not a UUID`]);
  return id.toLowerCase();
}

export interface DlqQuery {
  code?: string;
  partition?: number;
}

/**
 * The DLQ view's filters from the query string; empty fields mean "any".
 * @throws AdminInputError naming each bad field.
 */
export function parseDlqQuery(query: Record<string, string | undefined>): DlqQuery {
  const problems: string[] = [];
  const out: DlqQuery = {};
  const code = query.code?.trim();
  if (code) {
    if (code.length <= 200) out.code = code;
    else problems.push('code is longer than 200 characters');
  }
  const partition = query.partition?.trim();
  if (partition) {
    if (/^\d{1,9}$/.test(partition)) out.partition = Number(partition);
    else problems.push(`partition "${partition}" is not a partition number`);
  }
  if (problems.length) throw new AdminInputError(problems);
  return out;
}

/** @throws AdminInputError unless `partition` and `offset` are non-negative integers. */
export function parseDlqPosition(partition: string, offset: string): { partition: number; offset: string } {
  const problems: string[] = [];
  if (!/^\d{1,9}$/.test(partition)) problems.push(`partition "${partition}" is not a partition number`);
  if (!/^\d{1,18}$/.test(offset)) problems.push(`offset "${offset}" is not an offset`);
  if (problems.length) throw new AdminInputError(problems);
  return { partition: Number(partition), offset: BigInt(offset).toString() };
}
