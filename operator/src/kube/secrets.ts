import { ApiException, CoreV1Api } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';

/** Why a secret value could not be read: the condition reason the relay scaler reports. */
export class SecretUnavailableError extends Error {
  override readonly name = 'SecretUnavailableError';
}

/** One key of a Secret, decoded. RBAC: secrets get (in the pipelines' namespaces). */
export class Secrets {
  private readonly core: CoreV1Api;

  constructor(kubeConfig: KubeConfig) {
    this.core = kubeConfig.makeApiClient(CoreV1Api);
  }

  /** @throws SecretUnavailableError when the secret or the key is missing. */
  async value(namespace: string, name: string, key: string): Promise<string> {
    let data: Record<string, string> | undefined;
    try {
      data = (await this.core.readNamespacedSecret({ namespace, name })).data;
    } catch (err) {
      if (err instanceof ApiException && err.code === 404)
        throw new SecretUnavailableError(`secret ${namespace}/${name} not found`);
      throw err;
    }
    const encoded = data?.[key];
    if (encoded === undefined)
      throw new SecretUnavailableError(`secret ${namespace}/${name} has no key ${key}`);
    return Buffer.from(encoded, 'base64').toString('utf8');
  }
}
