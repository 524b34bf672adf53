/**
 * What "blocked" means, in one place (DESIGN §4, §6): a PENDING row with an earlier DEAD row of the
 * same product. No relay will publish it until an operator requeues or skips that DEAD row, so it
 * is reported apart (`shopstream_outbox_blocked_events`, `shopstream status`) and never counted in
 * the backlog the operator scales relays on — more relays cannot move it.
 *
 * `alias` names the outbox_event_unpublished row being tested. Uses the (aggregate_id, seq) index.
 */
export const blockedByDeadSql = (alias: string): string =>
  `exists (select 1 from outbox_event_unpublished dead_before
           where dead_before.aggregate_id = ${alias}.aggregate_id and dead_before.seq < ${alias}.seq
             and dead_before.status = 'DEAD')`;

/**
 * The same meaning for counting many rows at once: each product's first DEAD row (few, found
 * through the DEAD/SKIPPED partial index). A PENDING row is blocked when its product's first DEAD
 * row comes before it; a left join on that costs one hash of the DEAD rows instead of an index
 * probe per PENDING row.
 */
export const firstDeadPerProductSql = `select aggregate_id, min(seq) as seq from outbox_event_unpublished
  where status = 'DEAD' group by aggregate_id`;
