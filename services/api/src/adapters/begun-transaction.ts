import type { EntityManager } from '@mikro-orm/postgresql';

/**
 * Throws the error that ended the transaction of `em` before it began, if one did.
 *
 * When BEGIN fails (its pooled connection died: PostgreSQL restarting or failing over), knex still
 * hands MikroORM the transaction, already completed, and keeps the real error in its
 * `executionPromise`; the first statement then fails with "Transaction query already complete" and
 * the cause — a connection error the API answers with 503 — is lost, so the request became a 500.
 * Called first inside `em.transactional`, this surfaces the real error instead.
 */
export async function throwIfNotBegun(em: EntityManager): Promise<void> {
  const trx = em.getTransactionContext<{
    isCompleted?: () => boolean;
    executionPromise?: Promise<unknown>;
  }>();
  if (!trx?.isCompleted?.()) return;
  await trx.executionPromise;
  throw new Error('the database transaction ended before it began');
}
