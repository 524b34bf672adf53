import type { Command } from 'commander';
import pg from 'pg';
import {
  ERROR_CLASSES,
  OUTBOX_STATUSES,
  OutboxAdmin,
  OutboxAdminError,
  isErrorClass,
  isUuid,
} from '@shopstream/shared';
import { pgOptions } from '@shopstream/shared';
import type { ErrorClass, OutboxRowSummary, OutboxStatus } from '@shopstream/shared';
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
  errorClass?: string;
  limit?: string;
}
interface RequeueOptions extends JsonOption {
  all?: boolean;
  errorClass?: string;
}

/** How many DEAD rows `requeue --all` reads per round: each round is a progress step. */
export const REQUEUE_BATCH = 100;

export interface ListFilter {
  status?: OutboxStatus;
  aggregateId?: string;
  errorClass?: ErrorClass;
  limit: number;
}

/** @throws a usage error (exit 2) naming the classes, unless `value` is one of them. */
export function parseErrorClass(value: string): ErrorClass {
  if (!isErrorClass(value)) {
    throw usageError(`--error-class must be one of ${ERROR_CLASSES.join(', ')}, not ${value}`);
  }
  return value;
}

/** What `requeue` was asked to do: one event, or every DEAD event (of one error class). */
export type RequeueTarget = { id: string } | { all: true; errorClass?: ErrorClass };

/** @throws a usage error (exit 2) for an id with --all, --error-class without --all, a bad id or class. */
export function parseRequeueTarget(id: string | undefined, options: RequeueOptions): RequeueTarget {
  if (options.all && id) throw usageError('requeue takes an event id or --all, not both');
  if (options.errorClass !== undefined && !options.all) {
    throw usageError('--error-class goes with --all: requeue --all --error-class <class>');
  }
  if (!options.all) return { id: parseEventId('requeue', id) };
  return options.errorClass === undefined
    ? { all: true }
    : { all: true, errorClass: parseErrorClass(options.errorClass) };
}

/** @throws a usage error (exit 2) for an unknown status or error class, a product that is not a UUID or a bad limit. */
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
  const errorClass = options.errorClass === undefined ? undefined : parseErrorClass(options.errorClass);
  const limit = options.limit === undefined ? 100 : Number(options.limit);
  if (!Number.isInteger(limit) || limit < 1) throw usageError('--limit must be a positive integer');
  return {
    ...(status ? { status: status as OutboxStatus } : {}),
    ...(options.product ? { aggregateId: options.product } : {}),
    ...(errorClass ? { errorClass } : {}),
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
    .option(
      '--error-class <class>',
      `only rows whose last error is of this class: ${ERROR_CLASSES.join(', ')}`,
    )
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
    .option(
      '--error-class <class>',
      `with --all: only DEAD events whose last error is of this class (${ERROR_CLASSES.join(', ')}; shopstream diagnose names it)`,
    )
    .option('--json', 'print JSON')
    .action((id: string | undefined, options: RequeueOptions) =>
      runAction(async () => {
        const target = parseRequeueTarget(id, options);
        await withAdmin(async (admin) => {
          const ids =
            'id' in target ? await admin.requeue(target) : await requeueAll(admin, target.errorClass);
          const of = 'errorClass' in target ? ` of class ${target.errorClass}` : '';
          emit(
            options,
            { requeued: ids, ...('errorClass' in target ? { errorClass: target.errorClass } : {}) },
            () => `requeued ${ids.length} DEAD event(s)${of}`,
          );
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
 * Requeues every DEAD row (of `errorClass`, when given), oldest first, a page at a time, so the
 * progress shown is real and a large requeue never holds many row locks at once while relays run.
 * A row someone else requeued or skipped meanwhile is left alone.
 */
async function requeueAll(admin: OutboxAdmin, errorClass?: ErrorClass): Promise<string[]> {
  const dead = await admin.deadByErrorClass();
  const total = errorClass ? dead[errorClass] : Object.values(dead).reduce((a, b) => a + b, 0);
  const progress = new Progress('requeue', total);
  const ids: string[] = [];
  let seen = 0;
  let afterSeq: string | undefined;
  progress.update(0);
  for (;;) {
    const page = await admin.list({
      status: 'DEAD',
      limit: REQUEUE_BATCH,
      ...(errorClass ? { errorClass } : {}),
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
  progress.done(
    `requeued ${ids.length} of ${total} DEAD event(s)${errorClass ? ` of class ${errorClass}` : ''}`,
  );
  return ids;
}

async function withAdmin(action: (admin: OutboxAdmin) => Promise<void>): Promise<void> {
  const config = loadCliConfig(process.env);
  const pool = new pg.Pool(pgOptions(config.DATABASE_URL, { max: 1, applicationName: 'shopstream-cli' }));
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
