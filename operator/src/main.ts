import { createLogger, runWorkerProcess } from '@shopstream/shared';
import { loadConfig } from './config.js';
import { reconcilePipeline } from './controllers/pipeline-controller.js';
import { loadKubeConfig } from './kube/kube-config.js';
import { LeaderElector } from './kube/leader-election.js';
import { StaleWriteError } from './kube/pipeline-client.js';
import { PipelineInformer } from './kube/pipeline-informer.js';
import { WorkQueue } from './kube/work-queue.js';
import { OperatorMetrics } from './metrics.js';
import { createPipelineDeps } from './pipeline-deps.js';

/**
 * Composition root of the operator: leader election gates everything; the leader runs the
 * informer and the work queue. A replica that loses the lease exits at once (Kubernetes restarts
 * it as a candidate): stopping the queue would wait for reconciles that might still write as a
 * zombie. Until it exits, every Kubernetes write and offset commit checks the lease on the local
 * clock first.
 */
async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const log = createLogger({ name: 'operator', level: config.LOG_LEVEL }).child({
    identity: config.POD_NAME,
  });
  const kubeClients = (beforeWrite?: () => void) =>
    loadKubeConfig({
      kubeconfigPath: config.KUBECONFIG,
      requestTimeoutMs: config.KUBE_REQUEST_TIMEOUT_MS,
      beforeWrite,
      onRequest: (verb, resource) => metrics.kubeRequests.inc({ verb, resource }),
    });
  const metrics = new OperatorMetrics();
  let shuttingDown = false;

  let queue: WorkQueue | undefined;
  let informer: PipelineInformer | undefined;
  const reconcile = async (key: string) => {
    const end = metrics.reconcileDuration.startTimer({ controller: 'pipeline' });
    try {
      const result = await reconcilePipeline(key, deps);
      metrics.reconcileTotal.inc({
        controller: 'pipeline',
        result: result.requeueAfterMs ? 'requeue' : 'success',
      });
      log.info({ key }, 'pipeline reconciled');
      return result;
    } catch (err) {
      if (err instanceof StaleWriteError) {
        // Someone changed the object after we read it: recompute from a fresh read, no backoff.
        metrics.reconcileTotal.inc({ controller: 'pipeline', result: 'conflict' });
        log.debug({ key, err: err.message }, 'pipeline changed while reconciling; requeued');
        return { requeueAfterMs: 0 };
      }
      metrics.reconcileTotal.inc({ controller: 'pipeline', result: 'error' });
      throw err;
    } finally {
      end();
    }
  };
  const stopLeading = async () => {
    const [q, i] = [queue, informer];
    queue = undefined;
    informer = undefined;
    await i?.stop();
    await q?.shutdown();
  };
  // The elector's own client has no write check: renewing the lease is how it keeps leading.
  const elector = new LeaderElector(kubeClients(), {
    namespace: config.OPERATOR_NAMESPACE,
    name: config.LEADER_ELECTION_LEASE_NAME,
    identity: config.POD_NAME,
    leaseDurationMs: config.LEADER_ELECTION_LEASE_MS,
    renewDeadlineMs: config.LEADER_ELECTION_RENEW_DEADLINE_MS,
    retryPeriodMs: config.LEADER_ELECTION_RETRY_MS,
    onStartedLeading: () => {
      log.info('started leading');
      metrics.leader.set(1);
      queue = new WorkQueue(reconcile, {
        workers: config.OPERATOR_WORKERS,
        qps: config.OPERATOR_QPS,
        burst: config.OPERATOR_BURST,
        onDepth: (depth) => metrics.workQueueDepth.set(depth),
        onError: (key, err, retryInMs) =>
          log.warn({ key, err: String(err), retryInMs }, 'reconcile failed; retrying'),
      });
      const q = queue;
      informer = new PipelineInformer(kc, (key) => q.add(key), log, {
        namespace: config.WATCH_NAMESPACE,
        labelSelector: config.WATCH_SELECTOR,
      });
      void informer.start();
    },
    onStoppedLeading: () => {
      metrics.leader.set(0);
      if (shuttingDown) return; // stop() released the lease after the queue drained
      log.warn(
        { lease: config.LEADER_ELECTION_LEASE_NAME },
        'lost leadership: exiting so that no reconcile in flight writes',
      );
      process.exit(1);
    },
    onError: (err) => log.warn({ err: String(err) }, 'leader election request failed'),
  });

  const kc = kubeClients(() => elector.assertLeading());
  const runtime = createPipelineDeps(kc, { metrics, assertLeading: () => elector.assertLeading() });
  const { deps } = runtime;

  await runWorkerProcess({
    log,
    ops: {
      host: config.METRICS_HOST,
      port: config.METRICS_PORT,
      registry: metrics.registry,
      ready: async () => true,
    },
    start: async () => elector.start(),
    stopMessage: 'shutting down: finishing reconciles, releasing the lease',
    stop: async () => {
      shuttingDown = true;
      await stopLeading();
      await elector.stop();
      await runtime.close();
    },
  });
}

main().catch((err: unknown) => {
  process.stderr.write(
    `${JSON.stringify({ level: 'fatal', msg: 'operator failed to start', err: String(err) })}\n`,
  );
  process.exit(1);
});
