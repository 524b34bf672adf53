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
