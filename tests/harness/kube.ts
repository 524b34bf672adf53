import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ApiextensionsV1Api, CoreV1Api, KubeConfig, loadYaml } from '@kubernetes/client-node';
import type { V1CustomResourceDefinition } from '@kubernetes/client-node';
import { infraEnv, repoRoot } from './infra.js';
import { waitFor } from './wait-for.js';

/** A client config for the local kube-apiserver (admin, client certificate). */
export function kubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(infraEnv().kubeconfig);
  return kc;
}

/**
 * Writes to `file` a kubeconfig holding only a fresh token of the ServiceAccount `namespace/name`
 * (what a pod running as it would hold), for the API server `kc` points at, with `namespace` as
 * the context's namespace. Returns `file`.
 */
export async function serviceAccountKubeconfig(
  kc: KubeConfig,
  serviceAccount: { namespace: string; name: string },
  file: string,
): Promise<string> {
  const { namespace, name } = serviceAccount;
  const { status } = await kc.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({
    namespace,
    name,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  await writeFile(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'cluster',
          cluster: {
            server: kc.getCurrentCluster()!.server,
            'certificate-authority': `${infraEnv().kubePki}/ca.crt`,
          },
        },
      ],
      users: [{ name, user: { token: status!.token } }],
      contexts: [{ name, context: { cluster: 'cluster', user: name, namespace } }],
      'current-context': name,
    }),
  );
  return file;
}

/**
 * Installs (or updates to the committed YAML) the ProductPipeline CRD and waits until it is served.
 * Shared by every test file: the CRD is cluster-scoped, each test works in its own namespace.
 * The operator chart's crds/ holds the one copy, so tests exercise exactly what Helm installs.
 */
export async function installPipelineCrd(kc: KubeConfig): Promise<void> {
  await installCrd(kc, join(repoRoot, 'charts', 'operator', 'crds', 'productpipelines.shopstream.io.yaml'));
}

/** Installs a CRD fixture of ours from tests/fixtures/crds (e.g. the Strimzi KafkaTopic stand-in). */
export async function installFixtureCrd(kc: KubeConfig, file: string): Promise<void> {
  await installCrd(kc, join(repoRoot, 'tests', 'fixtures', 'crds', file));
}

/**
 * Creates the CRD, or updates the one there to the file. A CRD whose `status.storedVersions` lists
 * a version the file no longer has (the Strimzi fixtures going v1beta2 → v1 only, as Strimzi 1.0
 * did) cannot be updated in place: the apiserver wants the objects stored at that version migrated
 * first. The test apiserver holds only earlier tests' objects, so that CRD is deleted, objects and
 * all, and created anew.
 */
async function installCrd(kc: KubeConfig, path: string): Promise<void> {
  const extensions = kc.makeApiClient(ApiextensionsV1Api);
  const crd = loadYaml<V1CustomResourceDefinition>(await readFile(path, 'utf8'));
  const name = crd.metadata!.name!;
  const versions = new Set(crd.spec.versions.map((v) => v.name));
  await waitFor(
    async () => {
      const existing = await extensions.readCustomResourceDefinition({ name }).catch(() => undefined);
      if (existing?.status?.storedVersions?.some((v) => !versions.has(v))) {
        if (!existing.metadata!.deletionTimestamp)
          await extensions.deleteCustomResourceDefinition({ name }).catch(() => undefined);
        return false; // until it is gone
      }
      if (existing) {
        crd.metadata!.resourceVersion = existing.metadata!.resourceVersion;
        await extensions.replaceCustomResourceDefinition({ name, body: crd });
      } else {
        await extensions.createCustomResourceDefinition({ body: crd });
      }
      return true;
    },
    {
      description: `the CRD ${name} to be installed (concurrent installs conflict and retry)`,
      timeoutMs: 60_000,
    },
  );
  await waitFor(
    async () =>
      (await extensions.readCustomResourceDefinition({ name })).status?.conditions?.some(
        (c) => c.type === 'Established' && c.status === 'True',
      ),
    { description: 'the CRD to be established' },
  );
}
