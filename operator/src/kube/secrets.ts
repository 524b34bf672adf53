import { ApiException, CoreV1Api } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import { workloadAccessError } from './workload-rbac.js';

/** Why a secret value could not be read: the condition reason the relay scaler reports. */
export class SecretUnavailableError extends Error {
  override readonly name = 'SecretUnavailableError';
}

/**
 * One key of a Secret, decoded. RBAC: secrets get, in the namespaces of rbac.workloadNamespaces
 * (a 403 says so: workload-rbac.ts).
 */
export class Secrets {
  private readonly core: CoreV1Api;

  constructor(kubeConfig: KubeConfig) {
    this.core = kubeConfig.makeApiClient(CoreV1Api);
  }

  /** @throws SecretUnavailableError when the secret or the key is missing. */
  async value(namespace: string, name: string, key: string): Promise<string> {
    return (await this.values(namespace, name, [key]))[key]!;
  }

  /**
   * Several keys of one Secret (one GET), decoded: a Strimzi KafkaUser Secret's user.crt and user.key.
   * @throws SecretUnavailableError when the secret or any of the keys is missing.
   */
  async values(namespace: string, name: string, keys: string[]): Promise<Record<string, string>> {
    let data: Record<string, string> | undefined;
    try {
      data = (await this.core.readNamespacedSecret({ namespace, name })).data;
    } catch (err) {
      if (err instanceof ApiException && err.code === 404)
        throw new SecretUnavailableError(`secret ${namespace}/${name} not found`);
      throw workloadAccessError(err, { verb: 'get', resource: 'secrets', namespace, name });
    }
    const out: Record<string, string> = {};
    for (const key of keys) {
      const encoded = data?.[key];
      if (encoded === undefined)
        throw new SecretUnavailableError(`secret ${namespace}/${name} has no key ${key}`);
      out[key] = Buffer.from(encoded, 'base64').toString('utf8');
    }
    return out;
  }
}
