import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The operator's metrics of DESIGN §6. */
export class OperatorMetrics {
  readonly registry = new Registry();
  readonly reconcileTotal: Counter<'controller' | 'result'>;
  readonly reconcileDuration: Histogram<'controller'>;
  readonly leader: Gauge;
  readonly relayDesiredReplicas: Gauge<'pipeline'>;
  readonly relayMaxReplicas: Gauge<'pipeline'>;

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
    this.leader = new Gauge({
      name: 'shopstream_operator_leader',
      help: '1 while this replica leads',
      registers,
    });
  }
}
