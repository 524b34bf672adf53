import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { infraEnv } from '../harness/index.js';

const run = promisify(execFile);

describe('chart and alert tooling', () => {
  it('helm reports the pinned version', async () => {
    const { stdout } = await run(infraEnv().helm, ['version', '--short']);
    expect(stdout.trim()).toMatch(new RegExp(`^v${infraEnv().versions.helm.replace(/\./g, '\\.')}`));
  });

  it('promtool runs and tells a valid rule file from a broken one', async () => {
    const { stdout, stderr } = await run(infraEnv().promtool, ['--version']);
    expect(stdout + stderr).toMatch(/promtool, version \d+\.\d+\.\d+/);

    const dir = await mkdtemp(join(tmpdir(), 'promtool-'));
    const good = join(dir, 'good.yaml');
    const bad = join(dir, 'bad.yaml');
    await writeFile(good, 'groups:\n- name: g\n  rules:\n  - alert: Up\n    expr: up == 0\n');
    await writeFile(bad, 'groups:\n- name: g\n  rules:\n  - alert: Up\n    expr: up ==\n');
    await expect(run(infraEnv().promtool, ['check', 'rules', good])).resolves.toBeDefined();
    await expect(run(infraEnv().promtool, ['check', 'rules', bad])).rejects.toThrow();
  });
});
