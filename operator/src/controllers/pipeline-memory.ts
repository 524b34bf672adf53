/**
 * What the leader remembers between reconciles of a pipeline (by uid), so that the periodic poll —
 * backlog, replicas, group state, every few seconds — does not redo the spec's work: topics are
 * brought to the spec when the generation changes, when they were not all ready, and at the
 * resync interval; the status is written when it changed in a way worth writing. A new leader
 * remembers nothing, so its first reconcile of each pipeline does everything.
 */
export class PipelineMemory {
  private readonly byUid = new Map<
    string,
    { topics?: { generation: number; atMs: number }; writtenAtMs?: number }
  >();

  constructor(
    private readonly resyncMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether the topics step must run for this generation. */
  topicsDue(uid: string, generation: number): boolean {
    const t = this.byUid.get(uid)?.topics;
    return !t || t.generation !== generation || this.now() - t.atMs >= this.resyncMs;
  }

  /** The topics of `generation` are as the spec says and ready; until then they are retried at each poll. */
  topicsDone(uid: string, generation: number): void {
    this.entry(uid).topics = { generation, atMs: this.now() };
  }

  topicsPending(uid: string): void {
    delete this.entry(uid).topics;
  }

  /** Milliseconds since this replica last wrote the status (Infinity: never). */
  sinceStatusWrite(uid: string): number {
    const at = this.byUid.get(uid)?.writtenAtMs;
    return at === undefined ? Infinity : this.now() - at;
  }

  statusWritten(uid: string): void {
    this.entry(uid).writtenAtMs = this.now();
  }

  forget(uid: string): void {
    this.byUid.delete(uid);
  }

  private entry(uid: string) {
    let e = this.byUid.get(uid);
    if (!e) {
      e = {};
      this.byUid.set(uid, e);
    }
    return e;
  }
}
