import type { Snapshot } from './snapshot.js';

const dash = '–';
const num = (n: number | null, digits = 0): string => (n === null ? dash : n.toFixed(digits));
const perSecond = (n: number | null): string => (n === null ? dash : `${n.toFixed(1)}/s`);
const seconds = (n: number | null): string =>
  n === null ? dash : n < 10 ? `${n.toFixed(1)} s` : `${n.toFixed(0)} s`;
const millis = (s: number | null): string => (s === null ? dash : `${(s * 1000).toFixed(0)} ms`);

const portOf = (url: string): string => {
  try {
    return `:${new URL(url).port || '80'}`;
  } catch {
    return url;
  }
};

/** "api up · relay :9464 up · relay :9474 DOWN …": a role with several targets names their ports. */
export function componentsLine(snapshot: Snapshot): string {
  const counts = new Map<string, number>();
  for (const c of snapshot.components) counts.set(c.role, (counts.get(c.role) ?? 0) + 1);
  return snapshot.components
    .map((c) => `${c.role}${counts.get(c.role)! > 1 ? ` ${portOf(c.url)}` : ''} ${c.up ? 'up' : 'DOWN'}`)
    .join(' · ');
}

/** The screen a terminal shows, redrawn in place every interval: short lines so nothing wraps. */
export function renderScreen(snapshot: Snapshot, options: { intervalMs: number; once?: boolean }): string[] {
  const { api, outbox, consumer } = snapshot;
  const e2e = consumer.endToEnd;
  const down = snapshot.components.filter((c) => !c.up);
  return [
    options.once
      ? `shopstream · ${snapshot.at.slice(11, 19)} UTC · rates over ${options.intervalMs / 1000} s`
      : `shopstream live · ${snapshot.at.slice(11, 19)} UTC · every ${options.intervalMs / 1000} s · Ctrl-C to stop`,
    `  processes    ${componentsLine(snapshot)}`,
    `  API          ${perSecond(api.requestsPerSecond)} requests`,
    `  outbox       pending ${num(outbox.pending)} · oldest ${seconds(outbox.oldestPendingAgeSeconds)} · DEAD ${num(outbox.dead)} · blocked behind DEAD ${num(outbox.blocked)}` +
      (outbox.source ? `  (${outbox.source})` : ''),
    `  relays       published ${perSecond(outbox.publishedPerSecond)} (total ${num(outbox.publishedTotal)}) · failures ${perSecond(outbox.publishFailuresPerSecond)} (total ${num(outbox.publishFailuresTotal)})`,
    `  consumer     lag ${num(consumer.lagMessages)} msgs · ${seconds(consumer.lagSeconds)} · applied ${perSecond(consumer.appliedPerSecond)} · DLQ ${num(consumer.dlqTotal)} · duplicates ${num(consumer.duplicatesTotal)}`,
    `  end-to-end   p50 ${millis(e2e.p50Seconds)} · p99 ${millis(e2e.p99Seconds)}  (commit → applied, ${e2e.events === null ? dash : e2e.events} events this interval)`,
    ...down.map((c) => `  ! ${c.role} ${c.url}: ${c.error ?? 'no answer'}`),
    ...(outbox.databaseError ? [`  ! database: ${outbox.databaseError}`] : []),
  ];
}

/** One line per refresh when the output is not a terminal (a log, a pipe). */
export function renderLine(snapshot: Snapshot): string {
  const { api, outbox, consumer } = snapshot;
  const down = snapshot.components.filter((c) => !c.up).map((c) => `${c.role} ${portOf(c.url)}`);
  return [
    snapshot.at,
    `api ${perSecond(api.requestsPerSecond)}`,
    `pending ${num(outbox.pending)} oldest ${seconds(outbox.oldestPendingAgeSeconds)} DEAD ${num(outbox.dead)} blocked ${num(outbox.blocked)}`,
    `published ${perSecond(outbox.publishedPerSecond)} failures ${num(outbox.publishFailuresTotal)}`,
    `lag ${num(consumer.lagMessages)} (${seconds(consumer.lagSeconds)}) DLQ ${num(consumer.dlqTotal)}`,
    `e2e p50 ${millis(consumer.endToEnd.p50Seconds)} p99 ${millis(consumer.endToEnd.p99Seconds)}`,
    down.length ? `DOWN ${down.join(', ')}` : 'all up',
  ].join(' | ');
}

/**
 * Cursor movement that redraws `lines` over the previous frame (`previousLines` tall) without
 * clearing the screen, so what was printed above (npm start's banner) stays visible. Lines are cut
 * to the terminal's width: a wrapped line would make the next frame start one row too low.
 */
export function redraw(lines: string[], previousLines: number, columns = 0): string {
  const up = previousLines > 0 ? `\x1b[${previousLines}A\r` : '';
  const fit = (l: string) =>
    columns > 1 && [...l].length >= columns ? [...l].slice(0, columns - 1).join('') : l;
  return `${up}${lines.map((l) => `${fit(l)}\x1b[K\n`).join('')}\x1b[J`;
}
