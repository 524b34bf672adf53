import { KubeConfig } from '@kubernetes/client-node';
import { createLogger, runWorkerProcess } from '@shopstream/shared';
import { loadConfig } from './config.js';
import { reconcilePipeline } from './controllers/pipeline-controller.js';
import { LeaderElector } from './kube/leader-election.js';
import { PipelineInformer } from './kube/pipeline-informer.js';
import { WorkQueue } from './kube/work-queue.js';
import { OperatorMetrics } from './metrics.js';
import { createPipelineDeps } from './pipeline-deps.js';

/**
 * Composition root of the operator: leader election gates everything; the leader runs the
 * informer and the work queue, a replica that loses the lease stops both at once.
 */
async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const log = createLogger({ name: 'operator', level: config.LOG_LEVEL }).child({
    identity: config.POD_NAME,
  });
  const kc = new KubeConfig();
  if (config.KUBECONFIG) kc.loadFromFile(config.KUBECONFIG);
  else kc.loadFromCluster();
  const metrics = new OperatorMetrics();
  const runtime = createPipelineDeps(kc, { metrics });
  const { deps } = runtime;

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
  const elector = new LeaderElector(kc, {
    namespace: config.OPERATOR_NAMESPACE,
    name: 'shopstream-operator',
    identity: config.POD_NAME,
    leaseDurationMs: config.LEADER_ELECTION_LEASE_MS,
    renewDeadlineMs: config.LEADER_ELECTION_RENEW_DEADLINE_MS,
    retryPeriodMs: config.LEADER_ELECTION_RETRY_MS,
    onStartedLeading: () => {
      log.info('started leading');
      metrics.leader.set(1);
      queue = new WorkQueue(reconcile, {
        workers: config.OPERATOR_WORKERS,
        onError: (key, err, retryInMs) =>
          log.warn({ key, err: String(err), retryInMs }, 'reconcile failed; retrying'),
      });
      const q = queue;
      informer = new PipelineInformer(kc, (key) => q.add(key), log, config.WATCH_NAMESPACE);
      void informer.start();
    },
    onStoppedLeading: () => {
      log.warn('stopped leading: reconciling stops now');
      metrics.leader.set(0);
      void stopLeading();
    },
    onError: (err) => log.warn({ err: String(err) }, 'leader election request failed'),
  });

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
