import type { Command } from 'commander';
import pg from 'pg';
import { OUTBOX_STATUSES, OutboxAdmin, OutboxAdminError, isUuid } from '@shopstream/shared';
import type { OutboxRowSummary, OutboxStatus } from '@shopstream/shared';
import { loadCliConfig } from '../context.js';
import { CliError, emit, runAction, usageError } from '../output.js';
import { Progress } from '../progress.js';
import { databaseError } from '../status/unreachable.js';

interface JsonOption {
  json?: boolean;
}
interface ListOptions extends JsonOption {
  status?: string;
  product?: string;
  limit?: string;
}

/** How many DEAD rows `requeue --all` reads per round: each round is a progress step. */
export const REQUEUE_BATCH = 100;

export interface ListFilter {
  status?: OutboxStatus;
  aggregateId?: string;
  limit: number;
}

/** @throws a usage error (exit 2) for an unknown status, a product that is not a UUID or a bad limit. */
export function parseListFilter(options: ListOptions): ListFilter {
  const status = options.status?.toUpperCase();
  if (status !== undefined && !(OUTBOX_STATUSES as readonly string[]).includes(status)) {
    throw usageError(
      `--status must be one of ${OUTBOX_STATUSES.join(', ').toLowerCase()}, not ${options.status}`,
    );
  }
  if (options.product !== undefined && !isUuid(options.product)) {
    throw usageError('--product needs a product id (a UUID)');
  }
  const limit = options.limit === undefined ? 100 : Number(options.limit);
  if (!Number.isInteger(limit) || limit < 1) throw usageError('--limit must be a positive integer');
  return {
    ...(status ? { status: status as OutboxStatus } : {}),
    ...(options.product ? { aggregateId: options.product } : {}),
    limit,
  };
}

/** @throws a usage error unless `id` is a UUID. */
export function parseEventId(command: string, id: string | undefined): string {
  if (!id || !isUuid(id)) throw usageError(`${command} needs an event id (a UUID)${id ? `, not ${id}` : ''}`);
  return id;
}

export function formatRows(rows: OutboxRowSummary[]): string {
  if (rows.length === 0) return 'no outbox events match';
  return rows
    .map(
      (r) =>
        `${r.id}  ${r.status.padEnd(9)} ${r.eventType.padEnd(16)} product ${r.aggregateId} v${r.aggregateVersion}  attempts ${r.attempts}${r.lastError ? `  last error: ${r.lastError.slice(0, 120)}` : ''}`,
    )
    .join('\n');
}

/**
 * `shopstream outbox`: look at the outbox and requeue or skip DEAD events (the relay's former
 * `npm run outbox`), through the same OutboxAdmin the admin page uses.
 */
export function register(program: Command): void {
  const outbox = program.command('outbox').description('Browse outbox events; requeue or skip DEAD ones.');
  outbox
    .command('list')
    .description('Outbox events in commit order.')
    .option('--status <status>', `one of ${OUTBOX_STATUSES.join(', ').toLowerCase()}`)
    .option('--product <id>', 'only this product')
    .option('--limit <n>', 'at most this many (default 100)')
    .option('--json', 'print JSON')
    .action((options: ListOptions) =>
      runAction(async () => {
        const filter = parseListFilter(options);
        await withAdmin(async (admin) => {
          const rows = await admin.list(filter);
          emit(options, rows, () => formatRows(rows));
        });
      }),
    );
  outbox
    .command('show')
    .description('One event with its payload and headers.')
    .argument('<id>', 'event id')
    .option('--json', 'print JSON')
    .action((id: string, options: JsonOption) =>
      runAction(async () => {
        const eventId = parseEventId('show', id);
        await withAdmin(async (admin) => {
          const row = await admin.show(eventId);
          if (!row) throw new CliError(`no outbox event ${eventId}`);
          emit(options, row, () => JSON.stringify(row, null, 2));
        });
      }),
    );
  outbox
    .command('requeue')
    .description('DEAD → PENDING (attempts reset, due now): the relay publishes it again, in order.')
    .argument('[id]', 'event id')
    .option('--all', 'every DEAD event')
    .option('--json', 'print JSON')
    .action((id: string | undefined, options: JsonOption & { all?: boolean }) =>
      runAction(async () => {
        if (options.all && id) throw usageError('requeue takes an event id or --all, not both');
        const eventId = options.all ? undefined : parseEventId('requeue', id);
        await withAdmin(async (admin) => {
          const ids = eventId ? await admin.requeue({ id: eventId }) : await requeueAll(admin);
          emit(options, { requeued: ids }, () => `requeued ${ids.length} DEAD event(s)`);
        });
      }),
    );
  outbox
    .command('skip')
    .description("DEAD → SKIPPED: never published, no longer blocks its product's later events.")
    .argument('<id>', 'event id')
    .option('--json', 'print JSON')
    .action((id: string, options: JsonOption) =>
      runAction(async () => {
        const eventId = parseEventId('skip', id);
        await withAdmin(async (admin) => {
          await admin.skip(eventId);
          emit(
            options,
            { skipped: eventId },
            () => `skipped ${eventId}: its product's later events will flow`,
          );
        });
      }),
    );
}

/**
 * Requeues every DEAD row, oldest first, a page at a time, so the progress shown is real and a
 * large requeue never holds many row locks at once while relays run. A row someone else requeued
 * or skipped meanwhile is left alone.
 */
async function requeueAll(admin: OutboxAdmin): Promise<string[]> {
  const total = (await admin.overview()).counts.DEAD;
  const progress = new Progress('requeue', total);
  const ids: string[] = [];
  let seen = 0;
  let afterSeq: string | undefined;
  progress.update(0);
  for (;;) {
    const page = await admin.list({
      status: 'DEAD',
      limit: REQUEUE_BATCH,
      ...(afterSeq ? { afterSeq } : {}),
    });
    if (page.length === 0) break;
    for (const row of page) {
      try {
        ids.push(...(await admin.requeue({ id: row.id })));
      } catch (err) {
        if (!(err instanceof OutboxAdminError)) throw err;
      }
    }
    seen += page.length;
    afterSeq = page.at(-1)!.seq;
    progress.update(seen, `${ids.length} requeued`);
  }
  progress.done(`requeued ${ids.length} of ${total} DEAD event(s)`);
  return ids;
}

async function withAdmin(action: (admin: OutboxAdmin) => Promise<void>): Promise<void> {
  const config = loadCliConfig(process.env);
  const pool = new pg.Pool({ connectionString: config.DATABASE_URL, max: 1, connectionTimeoutMillis: 5000 });
  pool.on('error', () => undefined);
  try {
    await action(new OutboxAdmin(pool));
  } catch (err) {
    if (err instanceof OutboxAdminError) throw new CliError(err.message);
    throw databaseError(err, config.DATABASE_URL);
  } finally {
    await pool.end();
  }
}
