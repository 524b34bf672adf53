import { parseArgs } from 'node:util';
import pg from 'pg';
import { OUTBOX_STATUSES, commonConfigSchema, isUuid, parseConfig } from '@shopstream/shared';
import type { OutboxStatus } from '@shopstream/shared';
import { OutboxAdmin, OutboxAdminError } from './outbox-admin.js';

const usage = `usage: npm run outbox -- <command>
  list [--status pending|published|dead|skipped] [--product <id>] [--limit N] [--json]
  show <event-id>
  requeue <event-id> | requeue --all
  skip <event-id>`;

class UsageError extends Error {}

/** `npm run outbox`: look at the outbox and requeue or skip DEAD events. Exit 2 on bad usage, 1 on failure. */
async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      status: { type: 'string' },
      product: { type: 'string' },
      limit: { type: 'string' },
      all: { type: 'boolean' },
      json: { type: 'boolean' },
    },
  });
  const [command, arg] = positionals;
  const needId = (): string => {
    if (!arg || !isUuid(arg)) throw new UsageError(`${command} needs an event id (a UUID)`);
    return arg;
  };
  const config = parseConfig(commonConfigSchema.pick({ DATABASE_URL: true }), process.env);
  const pool = new pg.Pool({ connectionString: config.DATABASE_URL, max: 1 });
  const admin = new OutboxAdmin(pool);
  const print = (value: unknown, text: () => string): void => {
    process.stdout.write(`${values.json ? JSON.stringify(value, null, 2) : text()}\n`);
  };
  try {
    switch (command) {
      case 'list': {
        const status = values.status?.toUpperCase();
        if (status && !(OUTBOX_STATUSES as readonly string[]).includes(status)) {
          throw new UsageError(`--status must be one of ${OUTBOX_STATUSES.join(', ').toLowerCase()}`);
        }
        if (values.product && !isUuid(values.product))
          throw new UsageError('--product needs a product id (a UUID)');
        const limit = values.limit ? Number(values.limit) : 100;
        if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit must be a positive integer');
        const rows = await admin.list({
          ...(status ? { status: status as OutboxStatus } : {}),
          ...(values.product ? { aggregateId: values.product } : {}),
          limit,
        });
        print(rows, () =>
          rows.length === 0
            ? 'no outbox events match'
            : rows
                .map(
                  (r) =>
                    `${r.id}  ${r.status.padEnd(9)} ${r.eventType.padEnd(16)} product ${r.aggregateId} v${r.aggregateVersion}  attempts ${r.attempts}${r.lastError ? `  last error: ${r.lastError.slice(0, 120)}` : ''}`,
                )
                .join('\n'),
        );
        break;
      }
      case 'show': {
        const row = await admin.show(needId());
        if (!row) throw new OutboxAdminError(`no outbox event ${arg}`);
        print(row, () => JSON.stringify(row, null, 2));
        break;
      }
      case 'requeue': {
        const ids = values.all ? await admin.requeue({ all: true }) : await admin.requeue({ id: needId() });
        print({ requeued: ids }, () => `requeued ${ids.length} DEAD event(s)`);
        break;
      }
      case 'skip': {
        const id = needId();
        await admin.skip(id);
        print({ skipped: id }, () => `skipped ${id}: its product's later events will flow`);
        break;
      }
      default:
        throw new UsageError(command ? `unknown command ${command}` : 'no command given');
    }
  } finally {
    await pool.end();
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof UsageError) {
    process.stderr.write(`${err.message}\n${usage}\n`);
    process.exit(2);
  }
  process.stderr.write(`outbox: ${(err as Error).message}\n`);
  process.exit(1);
});
