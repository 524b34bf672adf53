import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { loadYaml } from '@kubernetes/client-node';
import { repoRoot } from '../../harness/index.js';

export const umbrellaDir = join(repoRoot, 'charts', 'shopstream');
export const dashboardsDir = join(umbrellaDir, 'dashboards');
export const ruleFile = join(umbrellaDir, 'alerts', 'shopstream.rules.yaml');

export interface PanelTarget {
  dashboard: string;
  panel: string;
  refId: string;
  expr: string;
}

interface GrafanaPanel {
  title?: string;
  type?: string;
  targets?: { refId?: string; expr?: string }[];
  panels?: GrafanaPanel[];
}

export interface GrafanaDashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  templating: { list: { name: string; type: string; query?: unknown; allValue?: string }[] };
  panels: GrafanaPanel[];
}

export interface RuleFile {
  groups: { name: string; rules: { alert?: string; record?: string; expr: string; for?: string }[] }[];
}

/** Every dashboard JSON of the umbrella chart, by file name. */
export async function readDashboards(): Promise<Map<string, GrafanaDashboard>> {
  const files = (await readdir(dashboardsDir)).filter((f) => f.endsWith('.json')).sort();
  const dashboards = new Map<string, GrafanaDashboard>();
  for (const f of files) {
    dashboards.set(f, JSON.parse(await readFile(join(dashboardsDir, f), 'utf8')) as GrafanaDashboard);
  }
  return dashboards;
}

/** Every query of every panel (rows' nested panels included). */
export function panelTargets(file: string, dashboard: GrafanaDashboard): PanelTarget[] {
  const out: PanelTarget[] = [];
  const visit = (panels: GrafanaPanel[]) => {
    for (const p of panels) {
      for (const t of p.targets ?? []) {
        if (t.expr) out.push({ dashboard: file, panel: p.title ?? '?', refId: t.refId ?? '?', expr: t.expr });
      }
      visit(p.panels ?? []);
    }
  };
  visit(dashboard.panels);
  return out;
}

export async function readRuleFile(): Promise<RuleFile> {
  return loadYaml<RuleFile>(await readFile(ruleFile, 'utf8'));
}

/**
 * What Grafana sends to Prometheus for a panel query, with every template variable set to "all":
 * Grafana's interval macros become 1m (several 1 s scrapes), a multi-value "All" its allValue `.*`.
 */
export function substituteVariables(expr: string, dashboard: GrafanaDashboard): string {
  let out = expr.replace(/\$__rate_interval|\$__interval|\$__range|\$\{__rate_interval\}/g, '1m');
  for (const v of dashboard.templating.list) {
    const value = v.type === 'datasource' ? '' : (v.allValue ?? '.*');
    out = out.replace(new RegExp(`\\$\\{${v.name}(:[a-z]+)?\\}|\\$${v.name}\\b`, 'g'), value);
  }
  return out;
}

/** Our metric names in a PromQL expression (recording rules, `shopstream:…`, are not metrics). */
export function shopstreamMetricNames(expr: string): string[] {
  return [...new Set(expr.match(/\bshopstream_[a-z0-9_]+/g) ?? [])];
}

/**
 * Whether a metric name is exported in Prometheus text exposition `metrics` (a `# TYPE` line): a
 * histogram's `_bucket`, `_sum` and `_count` series count for the histogram.
 */
export function isExported(name: string, metrics: string): boolean {
  const typeOf = (n: string) => new RegExp(`^# TYPE ${n} (\\w+)$`, 'm').exec(metrics)?.[1];
  if (typeOf(name)) return true;
  const base = /^(.*)_(bucket|sum|count)$/.exec(name)?.[1];
  return base !== undefined && typeOf(base) === 'histogram';
}
