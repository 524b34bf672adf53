import { hostname } from 'node:os';
import { z } from 'zod';
import { parseConfig } from '@shopstream/shared';
import type { Env } from '@shopstream/shared';

const schema = z.object({
  /** A kubeconfig file; without it the in-cluster service account is used. */
  KUBECONFIG: z.string().min(1).optional(),
  OPERATOR_NAMESPACE: z.string().min(1).default('default'),
  /** Watch one namespace only; all namespaces when unset. */
  WATCH_NAMESPACE: z.string().min(1).optional(),
  /** Reconcile only ProductPipelines with these labels (a label selector): shards pipelines among operators. */
  WATCH_SELECTOR: z.string().min(1).optional(),
  POD_NAME: z.string().min(1).optional(),
  /** The Lease the replicas of one release compete for; the chart sets `<release fullname>`. */
  LEADER_ELECTION_LEASE_NAME: z.string().min(1).default('shopstream-operator'),
  LEADER_ELECTION_LEASE_MS: z.coerce.number().int().min(1000).default(15_000),
  LEADER_ELECTION_RENEW_DEADLINE_MS: z.coerce.number().int().min(500).default(10_000),
  LEADER_ELECTION_RETRY_MS: z.coerce.number().int().min(100).default(2_000),
  /** Deadline of every Kubernetes API request (watches excepted: they are long-lived). */
  KUBE_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  OPERATOR_WORKERS: z.coerce.number().int().min(1).max(64).default(2),
  /** Reconciles started per second across all pipelines, after a burst (controller-runtime's 10 and 100). */
  OPERATOR_QPS: z.coerce.number().positive().default(10),
  OPERATOR_BURST: z.coerce.number().int().min(1).default(100),
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9466),
  METRICS_HOST: z.string().default('0.0.0.0'),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
});

export type OperatorConfig = z.infer<typeof schema> & { POD_NAME: string };

/** @throws ConfigError listing every bad key. */
export function loadConfig(env: Env): OperatorConfig {
  const config = parseConfig(schema, env);
  return { ...config, POD_NAME: config.POD_NAME ?? `${hostname()}-${process.pid}` };
}
