import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The operator's metrics of DESIGN §6. */
export class OperatorMetrics {
  readonly registry = new Registry();
  readonly reconcileTotal: Counter<'controller' | 'result'>;
  readonly reconcileDuration: Histogram<'controller'>;
  readonly leader: Gauge;
  readonly relayDesiredReplicas: Gauge<'pipeline'>;
  readonly relayMaxReplicas: Gauge<'pipeline'>;
  readonly relayPendingEvents: Gauge<'pipeline'>;
  readonly consumerLag: Gauge<'pipeline' | 'group'>;
  readonly kubeRequests: Counter<'verb' | 'resource'>;
  readonly kafkaConnections: Counter;
  readonly statusWrites: Counter<'result'>;
  readonly workQueueDepth: Gauge;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    this.reconcileTotal = new Counter({
      name: 'shopstream_operator_reconcile_total',
      help: 'Reconciles by controller and result (success, error, requeue)',
      labelNames: ['controller', 'result'] as const,
      registers,
    });
    this.reconcileDuration = new Histogram({
      name: 'shopstream_operator_reconcile_duration_seconds',
      help: 'Reconcile duration by controller',
      labelNames: ['controller'] as const,
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.relayDesiredReplicas = new Gauge({
      name: 'shopstream_operator_relay_desired_replicas',
      help: 'Relay replicas the operator wants for a pipeline (namespace/name), scale-down stabilization included',
      labelNames: ['pipeline'] as const,
      registers,
    });
    this.relayMaxReplicas = new Gauge({
      name: 'shopstream_operator_relay_max_replicas',
      help: 'Most relay replicas the operator scales a pipeline (namespace/name) to: spec.relay.scaling.maxReplicas, at most the shard count',
      labelNames: ['pipeline'] as const,
      registers,
    });
    // Volatile numbers live here, scraped every interval; the status carries them only on a
    // meaningful change (a status write per poll per pipeline would load the API server).
    this.relayPendingEvents = new Gauge({
      name: 'shopstream_operator_relay_pending_events',
      help: 'Claimable outbox rows of a pipeline (namespace/name) at the last backlog poll',
      labelNames: ['pipeline'] as const,
      registers,
    });
    this.consumerLag = new Gauge({
      name: 'shopstream_operator_consumer_lag',
      help: 'Messages a consumer group of a pipeline (namespace/name) is behind, at the last poll',
      labelNames: ['pipeline', 'group'] as const,
      registers,
    });
    this.kubeRequests = new Counter({
      name: 'shopstream_operator_kube_requests_total',
      help: 'Requests to the Kubernetes API by HTTP method and resource (watches excluded)',
      labelNames: ['verb', 'resource'] as const,
      registers,
    });
    this.kafkaConnections = new Counter({
      name: 'shopstream_operator_kafka_admin_connections_total',
      help: 'Kafka admin clients opened (one per bootstrap string, again after an error)',
      registers,
    });
    this.statusWrites = new Counter({
      name: 'shopstream_operator_status_writes_total',
      help: 'Pipeline reconciles by what they did with the status: written, or unchanged (not written)',
      labelNames: ['result'] as const,
      registers,
    });
    this.workQueueDepth = new Gauge({
      name: 'shopstream_operator_workqueue_depth',
      help: 'Pipeline keys due for a reconcile and waiting for a worker or the rate limiter',
      registers,
    });
    this.leader = new Gauge({
      name: 'shopstream_operator_leader',
      help: '1 while this replica leads',
      registers,
    });
  }
}
