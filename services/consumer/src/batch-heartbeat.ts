/**
 * kafkajs errors (by `type`) that mean this member no longer holds its assignment: the group is
 * rebalancing, its generation is over, or the coordinator forgot the member. The batch in hand
 * must be given up without resolving anything more, so the member can rejoin in time.
 */
const LOST_ASSIGNMENT = new Set([
  'REBALANCE_IN_PROGRESS',
  'NOT_COORDINATOR_FOR_GROUP',
  'ILLEGAL_GENERATION',
  'UNKNOWN_MEMBER_ID',
  'FENCED_INSTANCE_ID',
]);

/**
 * Heartbeats the group every `intervalMs` while a batch is processed — also during a single slow
 * database call, which per-message heartbeats would not cover — so a member retrying a blocked event
 * stays in the group (kafkajs has no background heartbeat; it throttles calls to its own
 * heartbeatInterval). Use one per eachBatch call and `stop()` it in a finally block.
 */
export class BatchHeartbeat {
  /** The heartbeat error that said the assignment is gone; set once, never cleared. */
  lostAssignment: Error | undefined;
  private readonly timer: NodeJS.Timeout;
  private inFlight = false;

  constructor(
    private readonly heartbeat: () => Promise<void>,
    intervalMs = 1000,
  ) {
    this.timer = setInterval(() => void this.beat(), intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async beat(): Promise<void> {
    if (this.inFlight || this.lostAssignment) return;
    this.inFlight = true;
    try {
      await this.heartbeat();
    } catch (err) {
      const type = (err as { type?: unknown }).type;
      if (typeof type === 'string' && LOST_ASSIGNMENT.has(type)) this.lostAssignment = err as Error;
      // Anything else (a broker briefly away) is tried again on the next tick; if it lasts past the
      // session timeout the coordinator answers UNKNOWN_MEMBER_ID, which lands above.
    } finally {
      this.inFlight = false;
    }
  }
}
