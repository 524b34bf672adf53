import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { CliError } from '../output.js';
import { resolveKubeTarget } from './pipeline-status.js';

const dir = mkdtempSync(join(tmpdir(), 'cli-kubeconfig-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A kubeconfig whose current context is `name`, in `namespace` when given. */
function kubeconfig(file: string, name: string, server: string, namespace?: string): string {
  const path = join(dir, file);
  writeFileSync(
    path,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name, cluster: { server } }],
      users: [{ name, user: { token: 't' } }],
      contexts: [{ name, context: { cluster: name, user: name, ...(namespace ? { namespace } : {}) } }],
      'current-context': name,
    }),
  );
  return path;
}

const usage = (run: () => unknown): CliError => {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(CliError);
    return err as CliError;
  }
  throw new Error('expected a CliError');
};

describe('resolveKubeTarget', () => {
  const a = kubeconfig('a', 'a', 'https://a.example:6443', 'from-context');
  const b = kubeconfig('b', 'b', 'https://b.example:6443');

  it('reads nothing without a kubeconfig, whatever else is set', () => {
    expect(
      resolveKubeTarget({ namespace: 'x', pipeline: 'p' }, { SHOPSTREAM_NAMESPACE: 'y' }),
    ).toBeUndefined();
  });

  it('prefers --kubeconfig, then SHOPSTREAM_KUBECONFIG, then KUBECONFIG', () => {
    expect(resolveKubeTarget({ kubeconfig: b }, { SHOPSTREAM_KUBECONFIG: a, KUBECONFIG: a })?.server).toBe(
      'https://b.example:6443',
    );
    expect(resolveKubeTarget({}, { SHOPSTREAM_KUBECONFIG: b, KUBECONFIG: a })?.server).toBe(
      'https://b.example:6443',
    );
    expect(resolveKubeTarget({}, { KUBECONFIG: `${b}${delimiter}${a}` })?.server).toBe(
      'https://b.example:6443',
    );
  });

  it('takes the namespace from --namespace, then SHOPSTREAM_NAMESPACE, then the context, then default', () => {
    expect(
      resolveKubeTarget({ namespace: 'flag' }, { KUBECONFIG: a, SHOPSTREAM_NAMESPACE: 'env' })?.namespace,
    ).toBe('flag');
    expect(resolveKubeTarget({}, { KUBECONFIG: a, SHOPSTREAM_NAMESPACE: 'env' })?.namespace).toBe('env');
    expect(resolveKubeTarget({}, { KUBECONFIG: a })?.namespace).toBe('from-context');
    expect(resolveKubeTarget({}, { KUBECONFIG: b })?.namespace).toBe('default');
  });

  it('takes the pipeline from --pipeline, then SHOPSTREAM_PIPELINE, else leaves the choice to the selection', () => {
    expect(
      resolveKubeTarget({ pipeline: 'p1' }, { KUBECONFIG: a, SHOPSTREAM_PIPELINE: 'p2' })?.pipeline,
    ).toBe('p1');
    expect(resolveKubeTarget({}, { KUBECONFIG: a, SHOPSTREAM_PIPELINE: 'p2' })?.pipeline).toBe('p2');
    expect(resolveKubeTarget({}, { KUBECONFIG: a })?.pipeline).toBeUndefined();
  });

  it('calls a missing or unparsable kubeconfig, a bad namespace or in-cluster outside a pod bad usage (exit 2)', () => {
    const broken = join(dir, 'broken');
    writeFileSync(broken, 'clusters: [');
    expect(usage(() => resolveKubeTarget({}, { KUBECONFIG: join(dir, 'nope') }))).toMatchObject({
      exitCode: 2,
      message: `kubeconfig ${join(dir, 'nope')} does not exist`,
    });
    expect(usage(() => resolveKubeTarget({}, { KUBECONFIG: broken })).message).toMatch(
      /^kubeconfig .*broken cannot be read/,
    );
    expect(usage(() => resolveKubeTarget({ namespace: 'Shop_1' }, { KUBECONFIG: a })).exitCode).toBe(2);
    expect(usage(() => resolveKubeTarget({ kubeconfig: 'in-cluster' }, {})).message).toContain(
      'no service account here',
    );
  });
});
