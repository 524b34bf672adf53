import { pino } from 'pino';
import type { Pool } from 'pg';
import {
  DEFAULT_MAINTENANCE_SETTINGS,
  LockUnavailableError,
  OutboxMaintenance,
  inShortTransaction,
} from './outbox-maintenance.js';

const lockTimeout = () =>
  Object.assign(new Error('canceling statement due to lock timeout'), { code: '55P03' });

/** A client that records statements and fails the work statement as told. */
function fakeClient(failures: unknown[]) {
  const statements: string[] = [];
  return {
    statements,
    query: async (sql: string) => {
      statements.push(sql);
      if (sql === 'work') {
        const failure = failures.shift();
        if (failure) throw failure;
      }
      return { rows: [], rowCount: 0 };
    },
  };
}

const options = (sleeps: number[], lockErrors: number[] = []) => ({
  lockTimeoutMs: 200,
  attempts: 3,
  retryBaseMs: 100,
  retryMaxMs: 1_000,
  sleep: async (ms: number) => void sleeps.push(ms),
  onLockError: (attempt: number) => void lockErrors.push(attempt),
});

describe('inShortTransaction', () => {
  it('runs the work in its own transaction with a local lock_timeout', async () => {
    const client = fakeClient([]);
    await inShortTransaction(client as never, 'x', (c) => c.query('work'), options([]));
    expect(client.statements).toEqual(['begin', 'set local lock_timeout = 200', 'work', 'commit']);
  });

  it('rolls back and retries after a backoff when the lock is not available', async () => {
    const sleeps: number[] = [];
    const lockErrors: number[] = [];
    const client = fakeClient([lockTimeout(), lockTimeout()]);
    await inShortTransaction(client as never, 'x', (c) => c.query('work'), options(sleeps, lockErrors));
    expect(client.statements.filter((s) => s === 'rollback')).toHaveLength(2);
    expect(client.statements.at(-1)).toBe('commit');
    expect(lockErrors).toEqual([1, 2]);
    expect(sleeps).toHaveLength(2);
    expect(sleeps[0]).toBeGreaterThanOrEqual(50);
    expect(sleeps[0]).toBeLessThanOrEqual(100);
    expect(sleeps[1]).toBeGreaterThanOrEqual(100);
    expect(sleeps[1]).toBeLessThanOrEqual(200);
  });

  it('gives up after the bounded attempts with LockUnavailableError, without sleeping after the last', async () => {
    const sleeps: number[] = [];
    const client = fakeClient([lockTimeout(), lockTimeout(), lockTimeout(), lockTimeout()]);
    const failure = inShortTransaction(client as never, 'attach p', (c) => c.query('work'), options(sleeps));
    await expect(failure).rejects.toBeInstanceOf(LockUnavailableError);
    await expect(failure).rejects.toThrow('attach p: lock not available after 3 attempts');
    expect(sleeps).toHaveLength(2);
    expect(client.statements.filter((s) => s === 'work')).toHaveLength(3);
  });

  it('does not retry other errors', async () => {
    const client = fakeClient([Object.assign(new Error('boom'), { code: '42P01' })]);
    await expect(
      inShortTransaction(client as never, 'x', (c) => c.query('work'), options([])),
    ).rejects.toThrow('boom');
    expect(client.statements).toEqual(['begin', 'set local lock_timeout = 200', 'work', 'rollback']);
  });
});

describe('OutboxMaintenance', () => {
  const log = pino({ level: 'silent' });
  const pool = {} as Pool;

  it('takes the defaults and refuses nonsense settings', () => {
    expect(new OutboxMaintenance(pool, log).settings).toEqual(DEFAULT_MAINTENANCE_SETTINGS);
    expect(new OutboxMaintenance(pool, log, { lockTimeoutMs: 50 }).settings.lockTimeoutMs).toBe(50);
    expect(() => new OutboxMaintenance(pool, log, { purgeBatchSize: 0 })).toThrow(/at least 1/);
    expect(() => new OutboxMaintenance(pool, log, { retentionHours: Number.NaN })).toThrow(/retentionHours/);
  });

  it('reports a run that could not get a connection instead of throwing', async () => {
    const failing = { connect: async () => Promise.reject(new Error('no route to host')) } as unknown as Pool;
    const report = await new OutboxMaintenance(failing, log).run();
    expect(report.ran).toBe(false);
    expect(report.failed).toEqual([{ step: 'connect', error: 'no route to host' }]);
  });
});
