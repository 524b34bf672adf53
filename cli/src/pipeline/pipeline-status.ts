import { existsSync, readFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { delimiter } from 'node:path';
import { ApiException, CustomObjectsApi, KubeConfig, Observable } from '@kubernetes/client-node';
import type { ConfigurationOptions, RequestContext, ResponseContext } from '@kubernetes/client-node';
import type { ProductPipeline } from '@shopstream/operator';
import { usageError } from '../output.js';
import { pipelineView, selectPipeline } from './pipeline-view.js';
import type { PipelineRead } from './pipeline-view.js';

const GROUP = 'shopstream.io';
const VERSION = 'v1alpha1';
const PLURAL = 'productpipelines';
const SERVICE_ACCOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';
/** A person is waiting at the terminal: every API call gives up after this. */
const REQUEST_TIMEOUT_MS = 5_000;

/** Where the pipeline comes from: flags first, then the env keys (context.ts). */
export interface PipelineOptions {
  kubeconfig?: string;
  namespace?: string;
  pipeline?: string;
}

export interface PipelineEnv {
  KUBECONFIG?: string;
  SHOPSTREAM_KUBECONFIG?: string;
  SHOPSTREAM_NAMESPACE?: string;
  SHOPSTREAM_PIPELINE?: string;
  KUBERNETES_SERVICE_HOST?: string;
  KUBERNETES_SERVICE_PORT?: string;
}

export interface KubeTarget {
  kubeConfig: KubeConfig;
  /** The API server, for messages. */
  server: string;
  namespace: string;
  pipeline?: string;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * The cluster to read, or undefined when none is configured: `--kubeconfig`, else
 * SHOPSTREAM_KUBECONFIG, else KUBECONFIG (a path list, merged like kubectl), the value
 * `in-cluster` meaning the pod's service account. `~/.kube/config` and a pod's mounted token are
 * never used unasked: the CLI runs beside the services, and a developer's current context or a
 * pod's service account may be another cluster, or one not allowed to read pipelines.
 * @throws CliError (exit 2) for a kubeconfig that does not exist or cannot be parsed, or a bad namespace.
 */
export function resolveKubeTarget(options: PipelineOptions, env: PipelineEnv): KubeTarget | undefined {
  const source = options.kubeconfig ?? env.SHOPSTREAM_KUBECONFIG ?? env.KUBECONFIG;
  if (!source) return undefined;
  const kubeConfig = new KubeConfig();
  let podNamespace: string | undefined;
  if (source === 'in-cluster') {
    if (!env.KUBERNETES_SERVICE_HOST || !existsSync(`${SERVICE_ACCOUNT}/token`)) {
      throw usageError(
        'kubeconfig in-cluster: no service account here (KUBERNETES_SERVICE_HOST unset or no token mounted)',
      );
    }
    podNamespace = loadInCluster(kubeConfig, env);
  } else {
    const files = source.split(delimiter).filter(Boolean);
    files.forEach((file, i) => {
      if (!existsSync(file)) throw usageError(`kubeconfig ${file} does not exist`);
      try {
        if (i === 0) kubeConfig.loadFromFile(file);
        else {
          const more = new KubeConfig();
          more.loadFromFile(file);
          kubeConfig.mergeConfig(more, true);
        }
      } catch (err) {
        throw usageError(`kubeconfig ${file} cannot be read: ${(err as Error).message}`);
      }
    });
  }
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw usageError(`kubeconfig ${source}: its current context names no cluster`);
  const contextNamespace =
    podNamespace ?? kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace;
  const namespace = options.namespace ?? env.SHOPSTREAM_NAMESPACE ?? contextNamespace ?? 'default';
  if (!DNS_LABEL.test(namespace)) {
    throw usageError(`namespace ${JSON.stringify(namespace)} is not a Kubernetes namespace name`);
  }
  const pipeline = options.pipeline ?? env.SHOPSTREAM_PIPELINE;
  return { kubeConfig, server: cluster.server, namespace, ...(pipeline ? { pipeline } : {}) };
}

/** The pod's service account, as client-node's loadFromCluster builds it, but from the injected env. */
function loadInCluster(kubeConfig: KubeConfig, env: PipelineEnv): string | undefined {
  const host = env.KUBERNETES_SERVICE_HOST!;
  const port = env.KUBERNETES_SERVICE_PORT ?? '443';
  kubeConfig.loadFromClusterAndUser(
    {
      name: 'in-cluster',
      server: `https://${isIPv6(host) ? `[${host}]` : host}:${port}`,
      caFile: `${SERVICE_ACCOUNT}/ca.crt`,
      skipTLSVerify: false,
    },
    {
      name: 'in-cluster',
      authProvider: { name: 'tokenFile', config: { tokenFile: `${SERVICE_ACCOUNT}/token` } },
    },
  );
  const file = `${SERVICE_ACCOUNT}/namespace`;
  return existsSync(file) ? readFileSync(file, 'utf8').trim() || undefined : undefined;
}

/**
 * Reads the pipeline that describes `group` on `topic` (see selectPipeline). Never throws for the
 * API server's sake: unreachable, forbidden, no CRD — each is `{ reachable: false, error }` with
 * one sentence, so the caller still shows what PostgreSQL and Kafka said.
 */
export async function readPipeline(target: KubeTarget, group: string, topic: string): Promise<PipelineRead> {
  const api = target.kubeConfig.makeApiClient(CustomObjectsApi);
  const { namespace } = target;
  try {
    const pipelines = target.pipeline
      ? await getOne(api, namespace, target.pipeline)
      : ((
          (await api.listNamespacedCustomObject(
            { group: GROUP, version: VERSION, namespace, plural: PLURAL },
            withDeadline(),
          )) as { items?: ProductPipeline[] }
        ).items ?? []);
    const selection = selectPipeline(pipelines, { name: target.pipeline, namespace, group, topic });
    if ('error' in selection) return { reachable: false, error: selection.error };
    if (!selection.pipeline) return { reachable: true, namespace, pipeline: null, note: selection.note };
    return { reachable: true, namespace, pipeline: pipelineView(selection.pipeline, group), note: null };
  } catch (err) {
    return { reachable: false, error: describeKubeError(err, target) };
  }
}

async function getOne(api: CustomObjectsApi, namespace: string, name: string): Promise<ProductPipeline[]> {
  try {
    return [
      (await api.getNamespacedCustomObject(
        { group: GROUP, version: VERSION, namespace, plural: PLURAL, name },
        withDeadline(),
      )) as ProductPipeline,
    ];
  } catch (err) {
    // A missing object is "not found" for selectPipeline; a missing CRD is a 404 too, without the object's name.
    if (err instanceof ApiException && err.code === 404 && statusBody(err.body)?.details?.name === name)
      return [];
    throw err;
  }
}

/** Every call carries its own deadline (DESIGN §7): an API server that accepts and never answers must not hang the CLI. */
const withDeadline = (): ConfigurationOptions => ({
  middleware: [
    {
      pre: (context: RequestContext) => {
        context.setSignal(AbortSignal.timeout(REQUEST_TIMEOUT_MS));
        return new Observable(Promise.resolve(context));
      },
      post: (response: ResponseContext) => new Observable(Promise.resolve(response)),
    },
  ],
  middlewareMergeStrategy: 'append',
});

/** One sentence naming the API server and what went wrong, fit for a status line. */
export function describeKubeError(err: unknown, target: KubeTarget): string {
  const where = `Kubernetes API at ${target.server}`;
  if (err instanceof ApiException) {
    const reason = apiMessage(err.body);
    if (err.code === 401) return `${where} refused the credentials of the kubeconfig (401${reason})`;
    if (err.code === 403)
      return `${where}: the kubeconfig's user may not read productpipelines.${GROUP} in namespace ${target.namespace} (403${reason}); it needs get and list on them`;
    if (err.code === 404)
      return `${where} does not serve productpipelines.${GROUP}/${VERSION}: is the operator's CRD installed? (404)`;
    return `${where} answered ${err.code}${reason}`;
  }
  const e = err as Error & { code?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'AbortError' || e?.name === 'TimeoutError')
    return `cannot reach ${where}: no answer within ${REQUEST_TIMEOUT_MS / 1000}s`;
  const code = e?.code ?? e?.cause?.code;
  return `cannot reach ${where}: ${code && !e.message?.includes(code) ? `${code} ` : ''}${e?.message ?? String(err)}`;
}

/** A metav1.Status body, when the API server sent one. */
const statusBody = (body: unknown): { message?: string; details?: { name?: string } } | undefined => {
  try {
    return (typeof body === 'string' ? JSON.parse(body) : body) as { message?: string };
  } catch {
    return undefined;
  }
};

const apiMessage = (body: unknown): string => {
  const message = statusBody(body)?.message;
  return message ? `: ${message}` : '';
};
