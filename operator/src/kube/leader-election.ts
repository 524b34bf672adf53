import { ApiException, CoordinationV1Api } from '@kubernetes/client-node';
import type { KubeConfig, V1Lease } from '@kubernetes/client-node';
import { abortWith } from './kube-config.js';
import { LeaseObserver, RenewDeadline, microTime, nextLeaseRecord } from './lease-clock.js';
import type { LocalClock } from './lease-clock.js';

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  /** How long a lease holds without renewal, on a candidate's clock, before it may take it (15 s). */
  leaseDurationMs: number;
  /** The leader stops leading if it has not renewed for this long on its own clock (10 s). */
  renewDeadlineMs: number;
  /** How often candidates try to acquire and the leader renews (2 s). */
  retryPeriodMs: number;
  onStartedLeading: () => void;
  /** Called at once when leadership is lost (renew deadline passed, or another holder seen). */
  onStoppedLeading: () => void;
  onError?: (err: unknown) => void;
  /** Monotonic milliseconds; performance.now unless a test drives it. */
  now?: LocalClock;
}

/** Thrown instead of a write when this replica can no longer be sure it holds the lease. */
export class NotLeaderError extends Error {
  override readonly name = 'NotLeaderError';
}

const status = (err: unknown): number | undefined => (err instanceof ApiException ? err.code : undefined);

/**
 * Lease-based leader election on `coordination.k8s.io/v1` with client-go's semantics: a candidate
 * takes a Lease that is free, or whose record it has seen unchanged for leaseDuration on its own
 * clock (never by comparing the holder's renewTime with its clock); every write carries the
 * resourceVersion it was computed from; the leader stops leading once renewDeadline has passed on
 * its clock since its last successful renewal, and each lease request is aborted by then.
 * `stop()` releases the lease, so a successor need not wait for it to expire.
 *
 * RBAC: leases (coordination.k8s.io) get, create, update in the operator's namespace.
 */
export class LeaderElector {
  private readonly api: CoordinationV1Api;
  private readonly now: LocalClock;
  private readonly observer: LeaseObserver;
  private readonly term: RenewDeadline;
  private timer: NodeJS.Timeout | undefined;
  private leading = false;
  private stopped = false;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(
    kubeConfig: KubeConfig,
    private readonly options: LeaderElectionOptions,
  ) {
    this.api = kubeConfig.makeApiClient(CoordinationV1Api);
    this.now = options.now ?? (() => performance.now());
    this.observer = new LeaseObserver(this.now);
    this.term = new RenewDeadline(this.now, options.renewDeadlineMs);
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /**
   * Whether this replica may act as leader at this instant: it leads and its renew deadline has not
   * passed. Checked by the clock, not by the renew timer, so a process resumed after a freeze
   * (SIGSTOP, a long GC pause) knows before any of its pending callbacks can write.
   */
  holdsLease(): boolean {
    if (this.leading && this.term.remainingMs() === 0) this.setLeading(false);
    return this.leading;
  }

  /** @throws NotLeaderError unless `holdsLease()`. */
  assertLeading(): void {
    if (!this.holdsLease())
      throw new NotLeaderError(`${this.options.identity} does not hold lease ${this.options.name}`);
  }

  start(): void {
    this.schedule(0);
  }

  /** Stops campaigning; a leader releases the lease (unless `release` is false, as in a crash test). */
  async stop(options: { release?: boolean } = {}): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.inFlight; // a renew under way must not re-take the lease after we release it
    if (this.holdsLease() && options.release !== false)
      await this.release().catch((err: unknown) => this.options.onError?.(err));
    this.setLeading(false);
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    // A leader that overslept its deadline steps down before it asks the API server anything.
    this.holdsLease();
    const startedAt = this.now();
    // A leader's requests must end by its deadline; a candidate's within a renew deadline too.
    const budgetMs = this.leading ? this.term.remainingMs() : this.options.renewDeadlineMs;
    try {
      const held = await this.tryAcquireOrRenew(AbortSignal.timeout(Math.max(1, Math.ceil(budgetMs))));
      if (held) {
        this.term.renewed(startedAt);
        if (!this.leading) this.setLeading(true);
      } else if (this.leading) this.setLeading(false); // someone else holds it now
    } catch (err) {
      this.options.onError?.(err);
    }
    this.holdsLease();
    this.schedule(this.options.retryPeriodMs);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.inFlight = this.tick();
    }, ms);
  }

  private setLeading(leading: boolean): void {
    if (leading === this.leading) return;
    this.leading = leading;
    if (!leading) this.term.reset();
    if (leading) this.options.onStartedLeading();
    else this.options.onStoppedLeading();
  }

  /** @returns true when this identity holds the lease after the call. */
  private async tryAcquireOrRenew(signal: AbortSignal): Promise<boolean> {
    const { namespace, name, identity, leaseDurationMs } = this.options;
    const call = abortWith(signal);
    let lease: V1Lease;
    try {
      lease = await this.api.readNamespacedLease({ name, namespace }, call);
    } catch (err) {
      if (status(err) !== 404) throw err;
      const spec = nextLeaseRecord(undefined, identity, new Date(), leaseDurationMs);
      try {
        await this.api.createNamespacedLease(
          { namespace, body: { metadata: { name, namespace }, spec } },
          call,
        );
        this.observer.observe(spec);
        return true;
      } catch (createErr) {
        if (status(createErr) === 409) return false; // another candidate created it first
        throw createErr;
      }
    }
    const current = lease.spec ?? {};
    this.observer.observe(current);
    if (!this.observer.mayTake(current, identity, leaseDurationMs)) return false;
    const spec = nextLeaseRecord(current, identity, new Date(), leaseDurationMs);
    try {
      // `lease` carries the resourceVersion we read: a write by anyone since then fails with 409.
      await this.api.replaceNamespacedLease({ name, namespace, body: { ...lease, spec } }, call);
      this.observer.observe(spec);
      return true;
    } catch (err) {
      if (status(err) === 409) return false;
      throw err;
    }
  }

  private async release(): Promise<void> {
    const { namespace, name, identity } = this.options;
    const call = abortWith(AbortSignal.timeout(Math.max(1, this.options.renewDeadlineMs)));
    const lease = await this.api.readNamespacedLease({ name, namespace }, call);
    if (lease.spec?.holderIdentity !== identity) return;
    await this.api.replaceNamespacedLease(
      {
        name,
        namespace,
        body: {
          ...lease,
          spec: {
            ...lease.spec,
            holderIdentity: undefined,
            leaseDurationSeconds: 1,
            renewTime: microTime(new Date()),
            acquireTime: microTime(lease.spec?.acquireTime),
          },
        },
      },
      call,
    );
  }
}
