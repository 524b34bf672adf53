import type { Command } from 'commander';
import pg from 'pg';
import { pgOptions } from '@shopstream/shared';
import { loadCliConfig } from '../context.js';
import { emit, runAction, usageError } from '../output.js';
import { readOutboxBacklog } from '../live/outbox-backlog.js';
import { redraw, renderLine, renderScreen } from '../live/render.js';
import { scrapeAll } from '../live/scrape.js';
import { buildSnapshot } from '../live/snapshot.js';
import type { DatabaseBacklog, Scrape, Snapshot } from '../live/snapshot.js';
import { DEFAULT_METRICS_URLS, parseTargets } from '../live/targets.js';
import type { Target } from '../live/targets.js';

interface WatchOptions {
  interval: string;
  once?: boolean;
  json?: boolean;
  metricsUrls?: string;
  database: boolean;
}

export function register(program: Command): void {
  program
    .command('watch')
    .description(
      'Live view of the pipeline: API requests/s, outbox backlog, publish rate, consumer lag, DLQ, end-to-end latency.',
    )
    .option('--interval <ms>', 'refresh every <ms> milliseconds', '1000')
    .option('--once', 'print one snapshot (rates over one interval) and exit')
    .option('--json', 'JSON: one document with --once, else one line per refresh')
    .option(
      '--metrics-urls <list>',
      'role=url,… of the /metrics endpoints (roles api, relay, consumer, operator; env SHOPSTREAM_METRICS_URLS)',
    )
    .option('--no-database', 'do not read the outbox backlog from DATABASE_URL (use the relays’ gauges)')
    .addHelpText('after', `\nDefault targets (npm start): ${DEFAULT_METRICS_URLS}`)
    .action((options: WatchOptions) => runAction(() => watch(options)));
}

async function watch(options: WatchOptions): Promise<void> {
  const intervalMs = Number(options.interval);
  if (!Number.isInteger(intervalMs) || intervalMs < 100)
    throw usageError('--interval must be at least 100 (ms)');
  let targets: Target[];
  try {
    targets = parseTargets(
      options.metricsUrls ?? process.env.SHOPSTREAM_METRICS_URLS ?? DEFAULT_METRICS_URLS,
    );
  } catch (err) {
    throw usageError((err as Error).message);
  }
  const pool = options.database
    ? new pg.Pool(
        pgOptions(loadCliConfig(process.env).DATABASE_URL, { max: 1, applicationName: 'shopstream-cli' }),
      )
    : undefined;
  // Errors of an idle pooled connection (database restarted) must not crash the view.
  pool?.on('error', () => undefined);
  // A slow target must not hold up the whole frame.
  const timeoutMs = Math.max(300, Math.min(Math.floor(intervalMs * 0.8), 3000));
  const sample = async (): Promise<[Scrape[], DatabaseBacklog | { error: string } | undefined]> =>
    Promise.all([
      scrapeAll(targets, timeoutMs),
      pool === undefined
        ? undefined
        : readOutboxBacklog(pool).catch((err: Error & { code?: string }) => ({
            error: err.code ?? err.message,
          })),
    ]);

  try {
    if (options.once) {
      const [previous] = await sample();
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
      const [current, database] = await sample();
      const snapshot = buildSnapshot({ previous, current, database, now: Date.now() });
      emit(options, snapshot, () => renderScreen(snapshot, { intervalMs, once: true }).join('\n'));
      return;
    }
    await loop(intervalMs, sample, (snapshot) => show(snapshot, options, intervalMs));
  } finally {
    await pool?.end();
  }
}

let frameHeight = 0;
function show(snapshot: Snapshot, options: WatchOptions, intervalMs: number): void {
  const out = process.stdout;
  if (options.json) out.write(`${JSON.stringify(snapshot)}\n`);
  else if (out.isTTY) {
    const lines = renderScreen(snapshot, { intervalMs });
    out.write(redraw(lines, frameHeight, out.columns));
    frameHeight = lines.length;
  } else out.write(`${renderLine(snapshot)}\n`);
}

/** Refreshes on a fixed schedule (no drift from slow scrapes) until SIGINT or SIGTERM; then returns. */
async function loop(
  intervalMs: number,
  sample: () => Promise<[Scrape[], DatabaseBacklog | { error: string } | undefined]>,
  draw: (snapshot: Snapshot) => void,
): Promise<void> {
  let stopped = false;
  let wake = (): void => undefined;
  const stop = (): void => {
    stopped = true;
    wake();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const [first, database] = await sample();
    let previous = first;
    // The first frame has no rates yet, but shows at once which processes answer.
    draw(buildSnapshot({ current: previous, database, now: Date.now() }));
    const started = Date.now();
    for (let tick = 1; !stopped; tick++) {
      const delay = Math.max(0, started + tick * intervalMs - Date.now());
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      if (stopped) break;
      const [current, db] = await sample();
      if (stopped) break;
      draw(buildSnapshot({ previous, current, database: db, now: Date.now() }));
      previous = current;
    }
  } finally {
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
  }
}
