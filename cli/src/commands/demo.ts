import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import pg from 'pg';
import { isUuid, pgOptions } from '@shopstream/shared';
import { loadCliConfig } from '../context.js';
import { CliError, emit, runAction, usageError } from '../output.js';
import { Progress } from '../progress.js';
import { readModelState, waitUntilApplied } from '../demo/applied.js';
import { signSellerToken, tokenSubject } from '../demo/jwt.js';
import { driveLoad } from '../demo/load.js';
import { countsMatch, summarizeEvents } from '../demo/plan.js';
import type { Percentiles } from '../demo/plan.js';
import { sumOf } from '../live/prometheus.js';
import { scrapeAll } from '../live/scrape.js';
import { DEFAULT_METRICS_URLS, parseTargets } from '../live/targets.js';

interface DemoOptions {
  rate: string;
  duration: string;
  updateShare: string;
  apiUrl?: string;
  seller?: string;
  timeout: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('demo')
    .description(
      'Drive product creates and updates through the API at a steady rate, wait until the consumer applied every event, and print the counts and the commit → applied latency.',
    )
    .option('--rate <n>', 'requests per second', '200')
    .option('--duration <s>', 'seconds of load', '20')
    .option('--update-share <0..1>', 'share of requests that update a product the run created', '0.5')
    .option('--api-url <url>', 'the API (default API_URL, else http://127.0.0.1:8080)')
    .option('--seller <uuid>', 'seller to act as when signing with JWT_SECRET (default: a new one per run)')
    .option('--timeout <s>', 'how long to wait for every event to be applied after the load', '120')
    .option('--json', 'print the summary as JSON')
    .addHelpText(
      'after',
      `
Auth: SHOPSTREAM_TOKEN (a seller's bearer token) if set, else a token signed with JWT_SECRET (the
API's HS256 secret; \`npm run demo\` takes the local one from infra/dev-env.sh).
Reads DATABASE_URL (outbox_event, processed_event, product_search) and CONSUMER_GROUP_ID (the group
whose inbox counts as applied). Duplicates delivered come from the consumer's /metrics
(SHOPSTREAM_METRICS_URLS, default ${DEFAULT_METRICS_URLS}).
Exit 1 when the counts differ or the events were not all applied within --timeout.`,
    )
    .action((options: DemoOptions) => runAction(() => demo(options)));
}

const positive = (value: string, flag: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw usageError(`${flag} must be a positive number, not "${value}"`);
  return n;
};

/** Sum of the consumer's `duplicate` outcomes for the group; null when no consumer answers. */
async function duplicatesDelivered(group: string): Promise<number | null> {
  let targets;
  try {
    targets = parseTargets(process.env.SHOPSTREAM_METRICS_URLS ?? DEFAULT_METRICS_URLS).filter(
      (t) => t.role === 'consumer',
    );
  } catch (err) {
    throw usageError((err as Error).message);
  }
  const scrapes = (await scrapeAll(targets, 2000)).filter((s) => s.samples);
  if (scrapes.length === 0) return null;
  return scrapes.reduce(
    (sum, s) =>
      sum + (sumOf(s.samples!, 'shopstream_consumer_events_total', { group, outcome: 'duplicate' }) ?? 0),
    0,
  );
}

function auth(options: DemoOptions): { token: string; seller: string } {
  const given = process.env.SHOPSTREAM_TOKEN;
  if (given) {
    const seller = tokenSubject(given);
    if (!seller) throw usageError('SHOPSTREAM_TOKEN is not a JWT with a subject (the seller id)');
    return { token: given, seller };
  }
  const secret = process.env.JWT_SECRET;
  if (!secret) {
    throw usageError(
      'set JWT_SECRET (the API’s signing secret; `npm run demo` uses the local one) or SHOPSTREAM_TOKEN (a seller token)',
    );
  }
  const seller = options.seller ?? randomUUID();
  if (!isUuid(seller)) throw usageError(`--seller must be a UUID, not "${seller}"`);
  return { token: signSellerToken(seller, secret, 24 * 3600), seller };
}

async function demo(options: DemoOptions): Promise<void> {
  const rate = positive(options.rate, '--rate');
  const duration = positive(options.duration, '--duration');
  const timeoutSeconds = positive(options.timeout, '--timeout');
  const updateShare = Number(options.updateShare);
  if (!(updateShare >= 0 && updateShare < 1))
    throw usageError('--update-share must be at least 0 and below 1');
  const config = loadCliConfig(process.env);
  const apiUrl = (options.apiUrl ?? config.API_URL).replace(/\/$/, '');
  const { token, seller } = auth(options);
  const group = config.CONSUMER_GROUP_ID;

  const ready = await fetch(`${apiUrl}/readyz`, { signal: AbortSignal.timeout(5000) }).catch(() => undefined);
  if (!ready?.ok) {
    throw new CliError(
      `the API at ${apiUrl} is not ready (${ready ? `HTTP ${ready.status}` : 'no answer'}): is \`npm start\` running?`,
    );
  }
  const pool = new pg.Pool(pgOptions(config.DATABASE_URL, { max: 2, applicationName: 'shopstream-cli' }));
  try {
    const duplicatesBefore = await duplicatesDelivered(group);
    const total = Math.round(rate * duration);
    const sending = new Progress(`sending ${rate}/s for ${duration} s`, total);
    const load = await driveLoad({
      apiUrl,
      token,
      ratePerSecond: rate,
      durationSeconds: duration,
      updateShare,
      onProgress: (p) =>
        sending.update(p.scheduled, `ok ${p.ok} · failed ${p.failed} · in flight ${p.inFlight}`),
    });
    sending.done(
      `sent ${load.sent} requests in ${load.sendSeconds.toFixed(1)} s (${load.achievedRate.toFixed(0)}/s ok): ${load.ok} ok, ${load.failed} failed, ${load.skippedOverloaded} not sent (API saturated)`,
    );

    const productIds = [...load.products.keys()];
    const applying = new Progress('applied by the consumer', load.ok);
    const { events, timedOut } = await waitUntilApplied(
      pool,
      { productIds, group, since: load.startedAt, expected: load.ok },
      {
        timeoutMs: timeoutSeconds * 1000,
        onProgress: (applied, all) => applying.update(applied, `of ${all} events`),
      },
    );
    const outcome = summarizeEvents(events);
    applying.done(
      timedOut
        ? `timed out after ${timeoutSeconds} s: ${outcome.applied} of ${outcome.outboxEvents} events applied (outbox: ${JSON.stringify(outcome.byStatus)})`
        : `all ${outcome.applied} events applied`,
    );
    const readModel = await readModelState(pool, load.products);
    const duplicatesAfter = await duplicatesDelivered(group);
    const match = countsMatch({ writesOk: load.ok, outcome, readModel });

    const summary = {
      apiUrl,
      seller,
      consumerGroup: group,
      targetRate: rate,
      durationSeconds: duration,
      achievedRate: load.achievedRate,
      requests: {
        scheduled: load.scheduled,
        sent: load.sent,
        ok: load.ok,
        failed: load.failed,
        skippedOverloaded: load.skippedOverloaded,
        creates: load.creates,
        updates: load.updates,
        failures: load.failures,
      },
      products: load.products.size,
      outbox: { events: outcome.outboxEvents, published: outcome.published, byStatus: outcome.byStatus },
      applied: {
        events: outcome.applied,
        appliedMoreThanOnce: outcome.appliedMoreThanOnce,
        notApplied: outcome.notApplied,
        duplicatesDelivered:
          duplicatesBefore === null || duplicatesAfter === null ? null : duplicatesAfter - duplicatesBefore,
        readModelCurrent: readModel.current,
      },
      latencyMs: {
        commitToApplied: outcome.commitToAppliedMs,
        commitToPublished: outcome.commitToPublishedMs,
        publishedToApplied: outcome.publishedToAppliedMs,
      },
      countsMatch: match,
      timedOut,
    };
    emit(options, summary, () => renderSummary(summary));
    if (!match || timedOut) process.exitCode = 1;
  } finally {
    await pool.end();
  }
}

const ms = (n: number | null): string => (n === null ? '–' : `${n.toFixed(1)} ms`);
const line = (p: Percentiles): string =>
  `p50 ${ms(p.p50)} · p95 ${ms(p.p95)} · p99 ${ms(p.p99)} · max ${ms(p.max)}  (${p.count} events)`;

function renderSummary(s: {
  apiUrl: string;
  consumerGroup: string;
  targetRate: number;
  durationSeconds: number;
  achievedRate: number;
  requests: {
    sent: number;
    ok: number;
    failed: number;
    skippedOverloaded: number;
    creates: { ok: number };
    updates: { ok: number };
    failures: Record<string, number>;
  };
  products: number;
  outbox: { events: number };
  applied: {
    events: number;
    appliedMoreThanOnce: number;
    duplicatesDelivered: number | null;
    readModelCurrent: number;
  };
  latencyMs: { commitToApplied: Percentiles; commitToPublished: Percentiles };
  countsMatch: boolean;
}): string {
  const r = s.requests;
  const failures = Object.entries(r.failures).map(([k, v]) => `${k}×${v}`);
  return [
    '',
    `shopstream demo: ${s.targetRate}/s for ${s.durationSeconds} s against ${s.apiUrl} (achieved ${s.achievedRate.toFixed(0)}/s)`,
    `  requests   sent ${r.sent} · ok ${r.ok} (${r.creates.ok} creates, ${r.updates.ok} updates) · failed ${r.failed}${failures.length ? ` (${failures.join(', ')})` : ''}${r.skippedOverloaded ? ` · not sent ${r.skippedOverloaded} (API saturated)` : ''}`,
    `  outbox     ${s.outbox.events} events written for ${s.products} products`,
    `  applied    ${s.applied.events} events applied by group ${s.consumerGroup} · applied twice ${s.applied.appliedMoreThanOnce} · duplicates delivered ${s.applied.duplicatesDelivered ?? '– (consumer metrics not reachable)'} · read model current ${s.applied.readModelCurrent}/${s.products}`,
    `  commit → applied    ${line(s.latencyMs.commitToApplied)}`,
    `  commit → published  ${line(s.latencyMs.commitToPublished)}`,
    `  counts in = counts out: ${s.countsMatch ? 'yes' : 'NO'} (${r.ok} writes → ${s.outbox.events} outbox events → ${s.applied.events} applied)`,
  ].join('\n');
}
