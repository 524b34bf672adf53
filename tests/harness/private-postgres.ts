import { execFile } from 'node:child_process';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { infraEnv } from './infra.js';
import { freePort } from './processes.js';
import { waitFor } from './wait-for.js';

const run = promisify(execFile);

export interface PrivatePostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust authentication, loopback only). */
  url: string;
  /** `pg_ctl stop -m fast`: sessions are ended (57P01), then the server is down; its data stays for `start()`. */
  stop(): Promise<void>;
  /** Starts the server again on the same port and data, and waits until it accepts connections. */
  start(): Promise<void>;
  /** Stops the server at once and deletes its data directory. */
  destroy(): Promise<void>;
}

/**
 * A second PostgreSQL server from the same binaries infra uses, for tests that stop the database:
 * the shared server other test files use stays up. As in infra, PostgreSQL refuses to run as root,
 * so as root it runs as the `postgres` user, with its data under /var/tmp where that user can reach it.
 * fsync is off (test data) unless `durable`, but commits are synchronous, so an acknowledged commit
 * survives a stop.
 */
export async function startPrivatePostgres(
  options: {
    durable?: boolean;
    /** wal_level=logical, for change-data-capture clients (bench/debezium.ts): they need a slot and a WAL sender each. */
    logical?: boolean;
  } = {},
): Promise<PrivatePostgres> {
  const bin = `/usr/lib/postgresql/${infraEnv().versions.postgres}/bin`;
  const asRoot = process.getuid?.() === 0;
  const asPostgres = async (command: string, args: string[]): Promise<void> => {
    const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
    await run(file, argv, { timeout: 120_000 });
  };
  const dir = await mkdtemp('/var/tmp/shopstream-private-pg-');
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    await chown(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const data = join(dir, 'data');
  const port = await freePort();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  await asPostgres(join(bin, 'initdb'), [
    '-D',
    data,
    '-U',
    'postgres',
    '--auth=trust',
    '-E',
    'UTF8',
    '--locale=C.UTF-8',
  ]);
  const serverOptions = [
    '-c listen_addresses=127.0.0.1',
    `-c port=${port}`,
    `-c unix_socket_directories=${dir}`,
    '-c max_connections=100',
    // Durable: what production runs (every commit flushed to disk); benchmarks report it next to the fast profile.
    ...(options.durable
      ? ['-c fsync=on', '-c full_page_writes=on']
      : ['-c fsync=off', '-c full_page_writes=off']),
    ...(options.logical
      ? ['-c wal_level=logical', '-c max_replication_slots=10', '-c max_wal_senders=10']
      : []),
  ].join(' ');

  const start = async (): Promise<void> => {
    await asPostgres(join(bin, 'pg_ctl'), [
      '-D',
      data,
      '-l',
      join(dir, 'postgres.log'),
      '-w',
      '-t',
      '60',
      '-o',
      serverOptions,
      'start',
    ]);
    await waitFor(
      async () => {
        const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
        client.on('error', () => undefined);
        try {
          await client.connect();
          await client.query('select 1');
          return true;
        } finally {
          await client.end().catch(() => undefined);
        }
      },
      { description: `private PostgreSQL on port ${port}`, timeoutMs: 60_000 },
    );
  };
  const stop = async (mode: 'fast' | 'immediate' = 'fast'): Promise<void> => {
    await asPostgres(join(bin, 'pg_ctl'), ['-D', data, '-m', mode, '-w', '-t', '60', 'stop']);
  };
  await start();
  return {
    url,
    start,
    stop: () => stop('fast'),
    destroy: async () => {
      await stop('immediate').catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
