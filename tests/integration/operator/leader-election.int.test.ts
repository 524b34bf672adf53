import { CoordinationV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { LeaderElector } from '@shopstream/operator';
import { infraEnv, randomNamespace, waitFor } from '../../harness/index.js';

describe('Lease leader election against the real kube-apiserver', () => {
  const kc = new KubeConfig();
  kc.loadFromFile(infraEnv().kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const namespace = randomNamespace('lease');
  const electors: LeaderElector[] = [];
  const errors: string[] = [];
  beforeAll(() => core.createNamespace({ body: { metadata: { name: namespace } } }));
  afterAll(async () => {
    for (const e of electors) await e.stop({ release: false });
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
  });

  const LEASE_MS = 3000;
  const candidate = (identity: string, events: string[]) => {
    const e = new LeaderElector(kc, {
      namespace,
      name: 'shopstream-operator',
      identity,
      leaseDurationMs: LEASE_MS,
      renewDeadlineMs: 2000,
      retryPeriodMs: 300,
      onStartedLeading: () => events.push(`${identity} started`),
      onStoppedLeading: () => events.push(`${identity} stopped`),
      onError: (err) => errors.push(String((err as { body?: string }).body ?? err).slice(0, 600)),
    });
    electors.push(e);
    e.start();
    return e;
  };

  it('elects one leader; when it dies without releasing, another takes over after the lease; a release hands over at once', async () => {
    const events: string[] = [];
    const a = candidate('a', events);
    await waitFor(() => a.isLeader, { description: 'a to lead', timeoutMs: 5000 }).catch((err: unknown) => {
      throw new Error(errors.join('\n'), { cause: err });
    });
    const b = candidate('b', events);
    await new Promise((r) => setTimeout(r, 1000));
    expect([a.isLeader, b.isLeader]).toEqual([true, false]);

    // a "crashes": it stops renewing and does not release.
    await a.stop({ release: false });
    const crashedAt = Date.now();
    await waitFor(() => b.isLeader, {
      description: 'b to take over',
      timeoutMs: LEASE_MS + 5000,
      intervalMs: 50,
    });
    const takeoverMs = Date.now() - crashedAt;
    expect(takeoverMs).toBeGreaterThanOrEqual(LEASE_MS - 1000); // it waited for the lease to lapse
    expect(takeoverMs).toBeLessThanOrEqual(LEASE_MS + 5000);

    const lease = await kc
      .makeApiClient(CoordinationV1Api)
      .readNamespacedLease({ name: 'shopstream-operator', namespace });
    expect(lease.spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });

    // b shuts down gracefully: c does not have to wait for the lease.
    const c = candidate('c', events);
    await new Promise((r) => setTimeout(r, 500));
    expect(c.isLeader).toBe(false);
    await b.stop();
    const releasedAt = Date.now();
    await waitFor(() => c.isLeader, { description: 'c to take over', timeoutMs: LEASE_MS, intervalMs: 50 });
    expect(Date.now() - releasedAt).toBeLessThan(LEASE_MS - 1000);
    expect(events).toEqual(['a started', 'a stopped', 'b started', 'b stopped', 'c started']);
    expect(errors).toEqual([]);
  });
});
