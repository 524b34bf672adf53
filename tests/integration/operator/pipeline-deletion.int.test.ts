import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { deletePipelinesAndWait } from '@shopstream/operator';
import { createLogger } from '@shopstream/shared';
import { installPipelineCrd, kubeConfig, randomNamespace } from '../../harness/index.js';
import { pipelines } from './operator-fixture.js';

const silent = createLogger({ name: 'pipeline-deletion-test', level: 'silent' });
const HELD = 'test.shopstream.io/held';

/**
 * The umbrella chart's pre-delete hook program against the API server, without an operator: what
 * it deletes, and that it fails, naming the pipeline, rather than report success while a
 * finalizer still holds one.
 */
describe('deletePipelinesAndWait (real kube-apiserver)', () => {
  const kc = kubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const namespace = randomNamespace('pp-deletion');
  const pp = pipelines(kc, namespace);
  const metadata = (name: string, body: object) =>
    custom.patchNamespacedCustomObject(
      { group: 'shopstream.io', version: 'v1alpha1', namespace, plural: 'productpipelines', name, body },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  const create = async (name: string, release: string, finalizers: string[] = []) => {
    await pp.create(name, {
      kafka: { bootstrapServers: 'x:9092', topicManagement: 'Direct' },
      topics: [{ name: 'product.events', partitions: 1 }],
    });
    await metadata(name, { metadata: { labels: { 'app.kubernetes.io/instance': release }, finalizers } });
  };
  const left = async () =>
    (
      await Promise.all(
        ['ours', 'held', 'theirs'].map((n) =>
          pp.get(n).then(
            (p) => `${n}${p.metadata.deletionTimestamp ? ' (deleting)' : ''}`,
            () => undefined,
          ),
        ),
      )
    ).filter(Boolean);

  beforeAll(async () => {
    await installPipelineCrd(kc);
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    await create('ours', 'rel');
    await create('theirs', 'other');
    await create('held', 'stuck', [HELD]);
  });
  afterAll(async () => {
    await metadata('held', { metadata: { finalizers: null } }).catch(() => undefined);
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
  });

  it('deletes only the selected pipelines and returns once they are gone', async () => {
    await deletePipelinesAndWait(
      kc,
      { namespace, labelSelector: 'app.kubernetes.io/instance=rel', timeoutMs: 10_000, pollMs: 100 },
      silent,
    );
    expect(await left()).toEqual(['held', 'theirs']);
  });

  it('fails at its deadline naming a pipeline whose finalizer nobody removes', async () => {
    await expect(
      deletePipelinesAndWait(
        kc,
        { namespace, labelSelector: 'app.kubernetes.io/instance=stuck', timeoutMs: 1500, pollMs: 100 },
        silent,
      ),
    ).rejects.toThrow(`pipelines still present after 1500 ms: held (finalizers: ${HELD})`);
    expect(await left()).toEqual(['held (deleting)', 'theirs']);
  });
});
