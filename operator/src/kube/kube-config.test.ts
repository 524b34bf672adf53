import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubernetesObjectApi } from '@kubernetes/client-node';
import { abortWith, loadKubeConfig, resourceOf } from './kube-config.js';

/** An "API server" that accepts connections and never answers: what a hung apiserver looks like. */
async function silentServer(): Promise<{ server: Server; port: number; connections: () => number }> {
  const sockets: Socket[] = [];
  const server = createServer((s) => sockets.push(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  const close = server.close.bind(server);
  server.close = (cb) => {
    for (const s of sockets) s.destroy();
    return close(cb);
  };
  return { server, port: address.port, connections: () => sockets.length };
}

describe('loadKubeConfig', () => {
  let dir: string;
  let silent: Awaited<ReturnType<typeof silentServer>>;
  let kubeconfigPath: string;
  beforeAll(async () => {
    silent = await silentServer();
    dir = await mkdtemp(join(tmpdir(), 'kube-config-'));
    kubeconfigPath = join(dir, 'kubeconfig');
    await writeFile(
      kubeconfigPath,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [
          {
            name: 'c',
            cluster: { server: `http://127.0.0.1:${silent.port}`, 'insecure-skip-tls-verify': true },
          },
        ],
        users: [{ name: 'u', user: { token: 'x' } }],
        contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u' } }],
        'current-context': 'ctx',
      }),
    );
  });
  afterAll(async () => {
    await new Promise((r) => silent.server.close(r));
    await rm(dir, { recursive: true, force: true });
  });

  const elapsed = async (p: Promise<unknown>) => {
    const start = performance.now();
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    return { ms: performance.now() - start, err };
  };

  it('aborts a request the API server never answers after the request timeout', async () => {
    const kc = loadKubeConfig({ kubeconfigPath, requestTimeoutMs: 300 });
    const { ms, err } = await elapsed(kc.makeApiClient(CoreV1Api).readNamespace({ name: 'default' }));
    expect(err).toMatchObject({ name: 'TimeoutError' });
    expect(ms).toBeGreaterThanOrEqual(250);
    expect(ms).toBeLessThan(5_000);
  });

  it('covers clients built through KubernetesObjectApi.makeApiClient as well', async () => {
    const kc = loadKubeConfig({ kubeconfigPath, requestTimeoutMs: 300 });
    const objects = KubernetesObjectApi.makeApiClient(kc);
    const { ms, err } = await elapsed(
      objects.read({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } }),
    );
    expect(err).toMatchObject({ name: 'TimeoutError' });
    expect(ms).toBeGreaterThanOrEqual(250);
    expect(ms).toBeLessThan(5_000);
  });

  it('a per-call signal tighter than the client deadline wins', async () => {
    const kc = loadKubeConfig({ kubeconfigPath, requestTimeoutMs: 60_000 });
    const { ms, err } = await elapsed(
      kc.makeApiClient(CoreV1Api).readNamespace({ name: 'default' }, abortWith(AbortSignal.timeout(200))),
    );
    expect(err).toMatchObject({ name: 'TimeoutError' });
    expect(ms).toBeGreaterThanOrEqual(150);
    expect(ms).toBeLessThan(5_000);
  });

  it('beforeWrite refuses writes before they are sent and lets reads through', async () => {
    const kc = loadKubeConfig({
      kubeconfigPath,
      requestTimeoutMs: 300,
      beforeWrite: () => {
        throw new Error('not leading');
      },
    });
    const core = kc.makeApiClient(CoreV1Api);
    const sentBefore = silent.connections();
    await expect(core.createNamespace({ body: { metadata: { name: 'x' } } })).rejects.toThrow('not leading');
    await expect(core.deleteNamespace({ name: 'x' })).rejects.toThrow('not leading');
    expect(silent.connections()).toBe(sentBefore);
    const read = await elapsed(core.readNamespace({ name: 'default' }));
    expect(read.err).toMatchObject({ name: 'TimeoutError' });
    expect(silent.connections()).toBeGreaterThan(sentBefore);
  });
});

describe('resourceOf', () => {
  it('names the resource and subresource of a request, never a namespace or name', () => {
    const base = 'https://127.0.0.1:6443';
    expect(resourceOf(`${base}/apis/apps/v1/namespaces/ns/deployments/relay/scale`)).toBe(
      'deployments/scale',
    );
    expect(resourceOf(`${base}/api/v1/namespaces/ns/secrets/outbox-db`)).toBe('secrets');
    expect(
      resourceOf(`${base}/apis/shopstream.io/v1alpha1/namespaces/ns/productpipelines/shop/status?x=1`),
    ).toBe('productpipelines/status');
    expect(resourceOf(`${base}/apis/shopstream.io/v1alpha1/productpipelines`)).toBe('productpipelines');
    expect(resourceOf(`${base}/apis/coordination.k8s.io/v1/namespaces/ns/leases/op`)).toBe('leases');
    expect(resourceOf(`${base}/api/v1/namespaces/ns`)).toBe('namespaces');
    expect(resourceOf(`${base}/apis`)).toBe('apis');
    expect(resourceOf(`${base}/apis/kafka.strimzi.io/v1`)).toBe('apis');
  });
});
