export interface WaitOptions {
  /** What is awaited, for the timeout message: "topic orders to have 3 partitions". */
  description: string;
  timeoutMs?: number;
  intervalMs?: number;
}
/**
 * Polls `probe` until it returns a value other than undefined/false, and returns that value.
 * A probe that throws counts as "not yet"; on timeout the last error is attached as the cause,
 * so a failing test says what it waited for and why it never came.
 */
export declare function waitFor<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  { description, timeoutMs, intervalMs }: WaitOptions,
): Promise<T>;
//# sourceMappingURL=wait-for.d.ts.map
