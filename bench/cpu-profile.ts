/**
 * Summarises a V8 CPU profile (`node --cpu-prof`): self time per function and per package, the
 * table the performance notes quote. Usage from a bench: `summariseNewestProfile(dir)`.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Where a frame's code lives: a package, node's own code, the project, or V8 itself. */
function owner(url: string): string {
  if (!url) return '(v8/native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return 'node';
  const own = /\/(services\/[^/]+|operator|cli|tests|bench)\//.exec(url);
  return own ? own[1]! : url;
}

export function summariseProfile(profile: Profile, top = 15): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0) || 1;
  const fns = new Map<string, number>();
  const owners = new Map<string, number>();
  for (const [id, us] of self) {
    const f = byId.get(id)!.callFrame;
    const file = f.url.split('/').pop() ?? '';
    const name = `${f.functionName || '(anonymous)'} ${file ? `${file}:${f.lineNumber + 1}` : ''}`.trim();
    fns.set(name, (fns.get(name) ?? 0) + us);
    owners.set(owner(f.url), (owners.get(owner(f.url)) ?? 0) + us);
  }
  const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)} %`;
  const rows = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, us]) => `  ${pct(us)}  ${k}`);
  return [
    `CPU profile: ${(total / 1e6).toFixed(1)} s sampled`,
    'self time by code owner:',
    ...rows(owners),
    'self time by function:',
    ...rows(fns),
  ].join('\n');
}

export async function summariseNewestProfile(dir: string): Promise<string> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'));
  const dated = await Promise.all(files.map(async (f) => ({ f, t: (await stat(join(dir, f))).mtimeMs })));
  const newest = dated.sort((a, b) => b.t - a.t)[0];
  if (!newest) return `no CPU profile in ${dir}`;
  const profile = JSON.parse(await readFile(join(dir, newest.f), 'utf8')) as Profile;
  return `${join(dir, newest.f)}\n${summariseProfile(profile)}`;
}
