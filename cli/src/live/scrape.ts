import { parsePrometheusText } from './prometheus.js';
import type { Scrape } from './snapshot.js';
import type { Target } from './targets.js';

/** Fetches and parses one target's /metrics; a refused connection or bad answer is a down target. */
export async function scrapeTarget(target: Target, timeoutMs: number): Promise<Scrape> {
  try {
    const response = await fetch(target.url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) return { target, at: Date.now(), error: `HTTP ${response.status}` };
    const samples = parsePrometheusText(await response.text());
    return { target, at: Date.now(), samples };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    const reason = e.name === 'TimeoutError' ? `no answer in ${timeoutMs} ms` : (e.cause?.code ?? e.message);
    return { target, at: Date.now(), error: reason };
  }
}

export const scrapeAll = (targets: Target[], timeoutMs: number): Promise<Scrape[]> =>
  Promise.all(targets.map((t) => scrapeTarget(t, timeoutMs)));
