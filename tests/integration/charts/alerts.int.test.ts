import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadYaml } from '@kubernetes/client-node';
import { infraEnv, repoRoot } from '../../harness/index.js';
import { readRuleFile, ruleFile } from './observability-files.js';

const run = promisify(execFile);
const promtoolTests = join(repoRoot, 'tests', 'promtool');

/** What promtool printed, also when it exits non-zero, so a failure shows promtool's reasons. */
async function promtool(args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(infraEnv().promtool, args, { cwd: repoRoot });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

describe('the shopstream alert rules', () => {
  const alerts = [
    'OutboxOldestPendingAgeHigh',
    'OutboxDeadEventsPresent',
    'ConsumerLagSecondsHigh',
    'DeadLetterQueueGrowing',
    'RelayAtMaxReplicas',
  ];

  it('pass promtool check rules', async () => {
    const result = await promtool(['check', 'rules', ruleFile]);
    expect(result).toMatchObject({ code: 0 });
    expect(result.output).toMatch(`SUCCESS: ${alerts.length} rules found`);
  });

  it('define every alert the issue asks for, each with severity, summary, description and runbook', async () => {
    const rules = (await readRuleFile()).groups.flatMap((g) => g.rules);
    expect(rules.map((r) => r.alert).sort()).toEqual([...alerts].sort());
    for (const rule of rules) {
      const r = rule as { labels?: Record<string, string>; annotations?: Record<string, string> };
      expect(['warning', 'critical']).toContain(r.labels?.severity);
      expect(Object.keys(r.annotations ?? {}).sort()).toEqual(['description', 'runbook', 'summary']);
    }
  });

  it('pass their promtool unit tests, with a firing and a not-firing case for each alert', async () => {
    const files = (await readdir(promtoolTests)).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThan(0);
    const result = await promtool(['test', 'rules', ...files.map((f) => join(promtoolTests, f))]);
    expect(result.output).not.toMatch(/FAILED/);
    expect(result).toMatchObject({ code: 0 });
    expect(result.output).toMatch(/SUCCESS/);

    // Each alert is expected to fire (non-empty exp_alerts) and not to fire somewhere in the tests.
    const cases = new Map<string, { fires: number; silent: number }>(
      alerts.map((a) => [a, { fires: 0, silent: 0 }]),
    );
    for (const f of files) {
      const doc = loadYaml<{
        tests: { alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[];
      }>(await readFile(join(promtoolTests, f), 'utf8'));
      for (const t of doc.tests.flatMap((t) => t.alert_rule_test ?? [])) {
        const c = cases.get(t.alertname);
        if (!c) throw new Error(`${f} tests an unknown alert ${t.alertname}`);
        if (t.exp_alerts?.length) c.fires++;
        else c.silent++;
      }
    }
    for (const [alert, c] of cases) {
      expect({ alert, fires: c.fires > 0, silent: c.silent > 0 }).toEqual({
        alert,
        fires: true,
        silent: true,
      });
    }
  });

  it('fail promtool test rules when an expectation is wrong (the unit tests can fail)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'promtool-'));
    const file = join(
      promtoolTests,
      (await readdir(promtoolTests)).find((f) => f.endsWith('.yaml'))!,
    );
    // The same tests, expecting a DEAD event to page as a mere warning.
    const broken = (await readFile(file, 'utf8'))
      .replace('rule_files:\n  - ../../charts', `rule_files:\n  - ${repoRoot}/charts`)
      .replace('{ severity: critical, namespace: shop }', '{ severity: warning, namespace: shop }');
    await writeFile(join(dir, 'broken.yaml'), broken);
    const result = await promtool(['test', 'rules', join(dir, 'broken.yaml')]);
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(/FAILED[\s\S]*OutboxDeadEventsPresent/);
  });
});
