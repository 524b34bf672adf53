import { ApiException, CoordinationV1Api } from '@kubernetes/client-node';
import type { KubeConfig, V1Lease } from '@kubernetes/client-node';

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  /** How long a lease holds without renewal before others may take it (15 s). */
  leaseDurationMs: number;
  /** The leader steps down if it could not renew for this long (10 s). */
  renewDeadlineMs: number;
  /** How often candidates try to acquire and the leader renews (2 s). */
  retryPeriodMs: number;
  onStartedLeading: () => void;
  /** Called at once when leadership is lost (renew deadline passed, or another holder seen). */
  onStoppedLeading: () => void;
  onError?: (err: unknown) => void;
}

const status = (err: unknown): number | undefined => (err instanceof ApiException ? err.code : undefined);

/**
 * Lease times are metav1.MicroTime, which the API server parses only with six fractional digits;
 * client-node 1.4.0 serialises Dates with three (HTTP 400). It passes strings through unchanged.
 */
const microTime = (d: Date | string | undefined): Date | undefined => {
  if (d === undefined) return undefined;
  const iso = new Date(d).toISOString(); // 2026-11-29T08:02:45.702Z
  return iso.replace(/\.(\d{3})Z$/, '.$1000Z') as unknown as Date;
};

/**
 * Lease-based leader election on `coordination.k8s.io/v1` (what client-go's leaderelection does):
 * acquire a free or expired Lease with optimistic concurrency (resourceVersion), renew it every
 * retry period, and stop leading the moment a renew deadline passes or another holder appears.
 * `stop()` releases the lease, so a successor need not wait for it to expire.
 *
 * RBAC: leases (coordination.k8s.io) get, create, update in the operator's namespace.
 */
export class LeaderElector {
  private readonly api: CoordinationV1Api;
  private timer: NodeJS.Timeout | undefined;
  private leading = false;
  private lastRenew = 0;
  private stopped = false;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(
    kubeConfig: KubeConfig,
    private readonly options: LeaderElectionOptions,
  ) {
    this.api = kubeConfig.makeApiClient(CoordinationV1Api);
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    this.schedule(0);
  }

  /** Stops campaigning; a leader releases the lease (unless `release` is false, as in a crash test). */
  async stop(options: { release?: boolean } = {}): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.inFlight; // a renew under way must not re-take the lease after we release it
    if (this.leading && options.release !== false)
      await this.release().catch((err: unknown) => this.options.onError?.(err));
    this.setLeading(false);
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    try {
      const held = await this.tryAcquireOrRenew();
      if (held) this.lastRenew = Date.now();
      if (held && !this.leading) this.setLeading(true);
      if (!held && this.leading) this.setLeading(false); // someone else holds it now
    } catch (err) {
      this.options.onError?.(err);
    }
    if (this.leading && Date.now() - this.lastRenew > this.options.renewDeadlineMs) this.setLeading(false);
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
    if (leading) this.options.onStartedLeading();
    else this.options.onStoppedLeading();
  }

  /** @returns true when this identity holds the lease after the call. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity, leaseDurationMs } = this.options;
    const now = new Date();
    const spec = (previous?: V1Lease) => {
      const holder = previous?.spec?.holderIdentity;
      const changed = holder !== identity;
      return {
        holderIdentity: identity,
        leaseDurationSeconds: Math.ceil(leaseDurationMs / 1000),
        renewTime: microTime(now),
        acquireTime: microTime(changed ? now : (previous?.spec?.acquireTime ?? now)),
        leaseTransitions: (previous?.spec?.leaseTransitions ?? 0) + (changed && holder ? 1 : 0),
      };
    };
    let lease: V1Lease;
    try {
      lease = await this.api.readNamespacedLease({ name, namespace });
    } catch (err) {
      if (status(err) !== 404) throw err;
      try {
        await this.api.createNamespacedLease({
          namespace,
          body: { metadata: { name, namespace }, spec: spec() },
        });
        return true;
      } catch (createErr) {
        if (status(createErr) === 409) return false; // another candidate created it first
        throw createErr;
      }
    }
    const holder = lease.spec?.holderIdentity;
    const renewed = lease.spec?.renewTime ? new Date(lease.spec.renewTime).getTime() : 0;
    const duration = (lease.spec?.leaseDurationSeconds ?? 0) * 1000;
    if (holder && holder !== identity && renewed + duration > now.getTime()) return false;
    try {
      await this.api.replaceNamespacedLease({ name, namespace, body: { ...lease, spec: spec(lease) } });
      return true;
    } catch (err) {
      if (status(err) === 409) return false; // someone else wrote the lease since we read it
      throw err;
    }
  }

  private async release(): Promise<void> {
    const { namespace, name, identity } = this.options;
    const lease = await this.api.readNamespacedLease({ name, namespace });
    if (lease.spec?.holderIdentity !== identity) return;
    await this.api.replaceNamespacedLease({
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
    });
  }
}
