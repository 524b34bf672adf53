import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../../harness/index.js';
import { relayFixture } from '../relay/relay-fixture.js';
import type { RelayFixture } from '../relay/relay-fixture.js';

const run = promisify(execFile);

/** NAME=value lines of infra/versions.env, the one place the project's Node version is pinned. */
const versions = Object.fromEntries(
  readFileSync(join(repoRoot, 'infra/versions.env'), 'utf8')
    .split('\n')
    .map((l) => /^([A-Z0-9_]+)=(.*)$/.exec(l.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [m[1]!, m[2]!]),
);
const pinned = `v${versions.NODE_VERSION}`;

// Issue 16: the project runs on the Node it pins and fetches itself, whatever Node the machine has.
describe("the project's own Node.js", () => {
  it('is pinned with a sha512 per architecture, and engines and the Dockerfile name the same major', () => {
    expect(versions.NODE_VERSION).toMatch(/^\d+\.\d+\.\d+$/);
    for (const arch of ['X64', 'ARM64'])
      expect(versions[`NODE_INTEGRITY_${arch}`]).toMatch(/^sha512-[A-Za-z0-9+/]{86}==$/);
    const major = versions.NODE_VERSION!.split('.')[0]!;
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
      engines: { node: string };
    };
    expect(pkg.engines.node).toBe(`>=${versions.NODE_VERSION} <${Number(major) + 1}`);
    const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
    expect(/^ARG NODE_IMAGE=node:(\d+)-/m.exec(dockerfile)?.[1]).toBe(major);
  });

  it("is what infra/lib/node.sh runs, even with only the machine's Node on PATH", async () => {
    const { stdout } = await run('bash', [join(repoRoot, 'infra/lib/node.sh'), 'node', '--version'], {
      env: { HOME: process.env.HOME ?? '/root', PATH: '/usr/local/bin:/usr/bin:/bin' },
    });
    expect(stdout.trim()).toBe(pinned);
  });

  it('runs the tests themselves', () => {
    expect(process.version).toBe(pinned);
  });

  describe('as a service sees it', () => {
    let f: RelayFixture;
    beforeAll(async () => {
      f = await relayFixture({ partitions: 1 });
    });
    afterAll(async () => {
      await f?.close();
    });

    it('a relay started like every service of the tests reports the pinned version in nodejs_version_info', async () => {
      const relay = await f.startRelay();
      const text = await (await fetch(`http://127.0.0.1:${relay.metricsPort}/metrics`)).text();
      const info = text.split('\n').find((l) => l.startsWith('nodejs_version_info{'));
      expect(info).toContain(`version="${pinned}"`);
      process.stdout.write(`the relay's ${info}\n`);
    });
  });
});
