import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { sign } from 'hono/jwt';
import { migrate } from '@shopstream/shared';
import { freePort, startPrivatePostgres, startService, waitFor } from '../../harness/index.js';
import type { PrivatePostgres, ServiceProcess } from '../../harness/index.js';
import { JWT_SECRET, SELLER, bearer, jsonInit } from './api-under-test.js';

interface Outcome {
  status: number | 'network-error';
  phase: 'before' | 'down' | 'after';
  id?: string;
  contentType?: string | null;
  retryAfter?: string | null;
  code?: unknown;
}

const WORKERS = 6;
const MAX_REQUESTS = 3_000;
const OUTAGE_MS = 5_000;

describe('PostgreSQL restart / failover: API answers 503 problem+json with Retry-After while it is down; never 500s, never lost acknowledged writes', () => {
  let postgres: PrivatePostgres;
  let api: ServiceProcess | undefined;
  beforeAll(async () => {
    postgres = await startPrivatePostgres();
    await migrate(postgres.url);
  });
  afterAll(async () => {
    api?.child.kill('SIGKILL');
    await postgres?.destroy();
  });

  it('answers only 201 or 503 (problem+json, Retry-After) while PostgreSQL stops and restarts under load; every 201 is in the database with exactly one event', async () => {
    const port = await freePort();
    api = startService('services/api/src/main.ts', {
      DATABASE_URL: postgres.url,
      JWT_SECRET,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      DB_POOL_MAX: '4',
      DB_CONNECT_TIMEOUT_MS: '2000',
      DB_ACQUIRE_TIMEOUT_MS: '3000',
    });
    const base = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await fetch(`${base}/readyz`)).ok, { description: 'the API to be ready' });
    const auth = bearer(
      await sign({ sub: SELLER, exp: Math.floor(Date.now() / 1000) + 600 }, JWT_SECRET, 'HS256'),
    );

    const outcomes: Outcome[] = [];
    let phase: Outcome['phase'] = 'before';
    let running = true;
    let sent = 0;
    const count = (p: Outcome['phase'], status: Outcome['status']): number =>
      outcomes.filter((o) => o.phase === p && o.status === status).length;

    // A bounded load on loopback: WORKERS concurrent sellers' POSTs, at most MAX_REQUESTS in all;
    // a worker that got a 503 waits a little before its next request, as a client honouring it would.
    const worker = async (w: number): Promise<void> => {
      while (running && sent < MAX_REQUESTS) {
        sent += 1;
        const at = phase;
        const outcome: Outcome = { status: 'network-error', phase: at };
        try {
          const res = await fetch(
            `${base}/products`,
            jsonInit('POST', { title: `Lamp ${w}-${sent}`, price: 12.5, stock: 3 }, auth),
          );
          outcome.status = res.status;
          outcome.contentType = res.headers.get('Content-Type');
          outcome.retryAfter = res.headers.get('Retry-After');
          const body = (await res.json()) as { id?: string; code?: unknown };
          if (res.status === 201) outcome.id = body.id;
          else outcome.code = body.code;
        } catch {
          // recorded as a network error: the API process must keep answering throughout
        }
        outcomes.push(outcome);
        if (outcome.status !== 201) await sleep(50);
      }
    };
    const load = Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));

    await waitFor(() => count('before', 201) >= 30, {
      description: '30 acknowledged writes before the stop',
    });
    phase = 'down';
    const stoppedAt = Date.now();
    await postgres.stop();
    await waitFor(() => count('down', 503) >= 20, {
      description: '20 answers of 503 while PostgreSQL is down',
    });
    // The outage itself lasts about OUTAGE_MS: long enough for every pooled connection to be dead.
    await sleep(Math.max(0, OUTAGE_MS - (Date.now() - stoppedAt)));
    await postgres.start();
    phase = 'after';
    await waitFor(() => count('after', 201) >= 30, {
      description: '30 acknowledged writes after the restart',
      timeoutMs: 60_000,
    }).catch((err: Error) => {
      const tally = (p: Outcome['phase']) =>
        JSON.stringify(
          outcomes
            .filter((o) => o.phase === p)
            .reduce<Record<string, number>>((t, o) => {
              const k = `${o.status}${o.code ? `/${String(o.code)}` : ''}`;
              return { ...t, [k]: (t[k] ?? 0) + 1 };
            }, {}),
        );
      throw new Error(
        `${err.message}; sent ${sent}; down ${tally('down')}; after ${tally('after')}; api output:\n${api!.output().slice(-3000)}`,
      );
    });
    running = false;
    await load;

    const summary = Object.fromEntries(
      (['before', 'down', 'after'] as const).map((p) => [
        p,
        {
          201: count(p, 201),
          503: count(p, 503),
          other: outcomes.filter((o) => o.phase === p && o.status !== 201 && o.status !== 503).length,
        },
      ]),
    );
    process.stdout.write(
      `postgres-restart: ${outcomes.length} requests by phase sent ${JSON.stringify(summary)}\n`,
    );

    // Only acknowledged writes and "try again"; no 500, no dropped connection.
    const others = outcomes.filter((o) => o.status !== 201 && o.status !== 503);
    expect({
      others,
      errorLogs: api
        .output()
        .split('\n')
        .filter((l) => /"level":(50|60)/.test(l)),
    }).toEqual({
      others: [],
      errorLogs: [],
    });
    const unavailable = outcomes.filter((o) => o.status === 503);
    expect(unavailable.length).toBeGreaterThanOrEqual(20);
    for (const o of unavailable) {
      expect({ contentType: o.contentType, code: o.code }).toEqual({
        contentType: 'application/problem+json',
        code: 'DEPENDENCY_UNAVAILABLE',
      });
      expect(Number(o.retryAfter)).toBeGreaterThan(0);
    }

    // Every acknowledged write is there, with exactly one outbox event.
    const acknowledged = outcomes.filter((o) => o.status === 201).map((o) => o.id!);
    expect(new Set(acknowledged).size).toBe(acknowledged.length);
    const client = new pg.Client({ connectionString: postgres.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ id: string; events: number }>(
        `select p.id, (select count(*)::int from outbox_event e where e.aggregate_id = p.id) as events
         from product p where p.id = any($1::uuid[])`,
        [acknowledged],
      );
      expect(rows.length).toBe(acknowledged.length);
      expect(rows.filter((r) => r.events !== 1)).toEqual([]);
    } finally {
      await client.end();
    }
  });
});
