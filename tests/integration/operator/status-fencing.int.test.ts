import { CoreV1Api } from '@kubernetes/client-node';
import { PipelineClient, StaleWriteError } from '@shopstream/operator';
import { installPipelineCrd, kubeConfig, randomNamespace } from '../../harness/index.js';
import { pipelines } from './operator-fixture.js';

/**
 * A status is written only over the object it was computed from: what keeps a former leader's
 * reconcile, or one that read before a spec change, from overwriting a newer status (for example
 * putting back a `resetInProgress` its successor already finished).
 */
describe('status writes fenced by resourceVersion', () => {
  const kc = kubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const namespace = randomNamespace('fencing');
  const pp = pipelines(kc, namespace);
  const client = new PipelineClient(kc);
  beforeAll(async () => {
    await installPipelineCrd(kc);
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    await pp.create('shop', {
      kafka: { bootstrapServers: '127.0.0.1:9', topicManagement: 'Direct' },
      topics: [{ name: 'product.events', partitions: 3 }],
    });
  });
  afterAll(() => core.deleteNamespace({ name: namespace }).catch(() => undefined));

  it('refuses a status computed from a read older than the object, and writes one computed from the current object', async () => {
    const stale = await pp.get('shop');
    await client.patchStatus(stale, { observedGeneration: 1 });
    // The status write above is itself a change: `stale` is now one resourceVersion behind.
    await expect(client.patchStatus(stale, { observedGeneration: 7 })).rejects.toBeInstanceOf(
      StaleWriteError,
    );
    expect((await pp.get('shop')).status?.observedGeneration).toBe(1);

    await pp.patchSpec('shop', { topics: [{ name: 'product.events', partitions: 4 }] });
    const beforeSpecChange = stale;
    await expect(client.patchStatus(beforeSpecChange, { observedGeneration: 1 })).rejects.toThrow(
      /changed since resourceVersion/,
    );

    const current = await pp.get('shop');
    await client.patchStatus(current, { observedGeneration: 2 });
    expect((await pp.get('shop')).status?.observedGeneration).toBe(2);
  });

  it('refuses a finalizer change computed from a stale read', async () => {
    const stale = await pp.get('shop');
    await pp.patchSpec('shop', { topics: [{ name: 'product.events', partitions: 5 }] });
    await expect(client.setFinalizers(stale, ['shopstream.io/finalizer'])).rejects.toBeInstanceOf(
      StaleWriteError,
    );
    expect((await pp.get('shop')).metadata.finalizers).toBeUndefined();
  });
});
