import {
  HttpMethod,
  KubeConfig,
  Observable,
  ServerConfiguration,
  createConfiguration,
} from '@kubernetes/client-node';
import type {
  ApiConstructor,
  ApiType,
  ConfigurationOptions,
  ObservableMiddleware,
  RequestContext,
} from '@kubernetes/client-node';

export interface KubeClientOptions {
  /** A kubeconfig file; without it the in-cluster service account is used. */
  kubeconfigPath?: string;
  /** Every request is aborted after this long, including reading its body. */
  requestTimeoutMs: number;
  /**
   * Runs before every request that is not a GET and throws to refuse it: how a replica that is no
   * longer sure it leads is kept from writing.
   */
  beforeWrite?: () => void;
  /** Called for every request with its HTTP method and resource: what the operator's request counter counts. */
  onRequest?: (method: string, resource: string) => void;
}

const withSignal = (context: RequestContext, signal: AbortSignal): void => {
  const current = context.getSignal();
  context.setSignal(current ? AbortSignal.any([current, signal]) : signal);
};

const passThrough = <T>(value: T) => new Observable(Promise.resolve(value));

/**
 * The resource a request addresses, for metrics: "deployments/scale", "productpipelines/status",
 * "leases", "apis" (discovery). Bounded by the kinds the operator uses, never a name or namespace.
 */
export function resourceOf(url: string): string {
  const parts = new URL(url, 'http://x').pathname.split('/').filter(Boolean);
  // /api/v1/... or /apis/group/version/...; anything shorter is discovery.
  let rest = parts[0] === 'api' ? parts.slice(2) : parts[0] === 'apis' ? parts.slice(3) : [];
  if (!rest.length) return parts[0] ?? 'unknown';
  if (rest[0] === 'namespaces' && rest.length > 2) rest = rest.slice(2);
  const [plural, , subresource] = rest;
  return subresource ? `${plural}/${subresource}` : (plural ?? 'unknown');
}

/**
 * A KubeConfig whose API clients (generated ones and KubernetesObjectApi, which is built through
 * makeApiClient too) give every request a deadline. client-node (1.4 and 2.0) sets none: a request to an
 * API server that stops answering would wait for TCP to give up, and a reconcile, or the lease
 * renewal, with it. Watches do not go through here (they are long-lived by design).
 */
class DeadlineKubeConfig extends KubeConfig {
  constructor(private readonly options: KubeClientOptions) {
    super();
  }

  override makeApiClient<T extends ApiType>(apiClientType: ApiConstructor<T>): T {
    const cluster = this.getCurrentCluster();
    if (!cluster) throw new Error('no active cluster in the kubeconfig');
    const { requestTimeoutMs, beforeWrite, onRequest } = this.options;
    // One static middleware only: the generated clients (1.4 and 2.0) reverse() the static list in place
    // on every response, which would reorder two or more.
    const deadline: ObservableMiddleware = {
      pre: (context) => {
        if (beforeWrite && context.getHttpMethod() !== HttpMethod.GET) beforeWrite();
        onRequest?.(context.getHttpMethod(), resourceOf(context.getUrl()));
        withSignal(context, AbortSignal.timeout(Math.ceil(requestTimeoutMs)));
        return passThrough(context);
      },
      post: passThrough,
    };
    return new apiClientType(
      createConfiguration({
        baseServer: new ServerConfiguration(cluster.server, {}),
        authMethods: { default: this },
        middleware: [deadline],
      }),
    );
  }
}

/** The operator's only way to a KubeConfig: every API client made from it has request deadlines. */
export function loadKubeConfig(options: KubeClientOptions): KubeConfig {
  const kc = new DeadlineKubeConfig(options);
  if (options.kubeconfigPath) kc.loadFromFile(options.kubeconfigPath);
  else kc.loadFromCluster();
  return kc;
}

/** Per-call options that also abort the request with `signal` (the tighter of it and the client's deadline wins). */
export function abortWith(signal: AbortSignal): ConfigurationOptions<ObservableMiddleware> {
  return {
    middleware: [
      {
        pre: (context) => {
          withSignal(context, signal);
          return passThrough(context);
        },
        post: passThrough,
      },
    ],
    middlewareMergeStrategy: 'append',
  };
}
