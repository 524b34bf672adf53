import { ApiextensionsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { infraEnv, randomNamespace, waitFor } from '../harness/index.js';

describe('local kube-apiserver', () => {
  const kc = new KubeConfig();
  kc.loadFromFile(infraEnv().kubeconfig);
  const extensions = kc.makeApiClient(ApiextensionsV1Api);
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);

  // A throwaway group per run, so repeated runs never meet an old CRD.
  const group = `${randomNamespace('smoke')}.shopstream.test`;
  const plural = 'widgets';
  const crdName = `${plural}.${group}`;
  const namespace = randomNamespace('smoke');

  afterAll(async () => {
    await extensions.deleteCustomResourceDefinition({ name: crdName }).catch(() => undefined);
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
  });

  it('serves a CRD we create and stores a custom resource we read back', async () => {
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    await extensions.createCustomResourceDefinition({
      body: {
        metadata: { name: crdName },
        spec: {
          group,
          scope: 'Namespaced',
          names: { plural, singular: 'widget', kind: 'Widget' },
          versions: [
            {
              name: 'v1',
              served: true,
              storage: true,
              schema: {
                openAPIV3Schema: {
                  type: 'object',
                  properties: {
                    spec: {
                      type: 'object',
                      required: ['size'],
                      properties: { size: { type: 'integer', minimum: 1 } },
                    },
                  },
                },
              },
            },
          ],
        },
      },
    });
    await waitFor(
      async () => {
        const crd = await extensions.readCustomResourceDefinition({ name: crdName });
        return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
      },
      { description: `CRD ${crdName} to be Established` },
    );

    const body = { apiVersion: `${group}/v1`, kind: 'Widget', metadata: { name: 'blue' }, spec: { size: 3 } };
    await waitFor(
      () => custom.createNamespacedCustomObject({ group, version: 'v1', namespace, plural, body }),
      {
        description: 'the custom resource to be accepted',
      },
    );
    const read = (await custom.getNamespacedCustomObject({
      group,
      version: 'v1',
      namespace,
      plural,
      name: 'blue',
    })) as {
      spec: { size: number };
      metadata: { uid?: string };
    };
    expect(read.spec).toEqual({ size: 3 });
    expect(read.metadata.uid).toEqual(expect.any(String));

    // The schema is enforced by the real server, not by us.
    await expect(
      custom.createNamespacedCustomObject({
        group,
        version: 'v1',
        namespace,
        plural,
        body: { ...body, metadata: { name: 'bad' }, spec: { size: 0 } },
      }),
    ).rejects.toThrow(/spec\.size/);
  });
});
