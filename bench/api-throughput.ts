/**
 * Write throughput of the API (autocannon, loopback): POST /products, PATCH /products/:id and
 * DELETE /products/:id, next to a plain single-row INSERT endpoint on the same database in the same
 * run. Two database profiles: `fast` is the shared infra PostgreSQL (fsync and synchronous_commit
 * off), `durable` a private PostgreSQL with fsync and synchronous_commit on, as production runs.
 * POST and the INSERT baseline alternate for `--rounds` rounds, so load from anything else on the
 * machine falls on both alike; the goal is POST ÷ INSERT ≥ 0.8.
 * Usage: npm run bench:api -- [--duration 10] [--connections 20] [--rounds 2] [--profile fast|durable|both]
 * Needs the local infrastructure (`npm run infra -- up`). Prints a table per profile; writes
 * bench/results/api-*.json.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { sign } from 'hono/jwt';
import pg from 'pg';
import { migrate } from '@shopstream/shared';
// The harness modules themselves, not its index: that also loads the Kafka helpers, whose named
// kafkajs imports do not load under tsx.
import { createTestDatabase } from '../tests/harness/databases.js';
import { repoRoot } from '../tests/harness/infra.js';
import { startPrivatePostgres } from '../tests/harness/private-postgres.js';
import { freePort, startService } from '../tests/harness/processes.js';
import { waitFor } from '../tests/harness/wait-for.js';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '2' },
    profile: { type: 'string', default: 'both' },
  },
});
const duration = Number(values.duration);
const connections = Number(values.connections);
const rounds = Number(values.rounds);
if (!['fast', 'durable', 'both'].includes(values.profile)) {
  throw new Error(`--profile must be fast, durable or both, not ${values.profile}`);
}
const profiles = (values.profile === 'both' ? ['fast', 'durable'] : [values.profile]) as Array<
  'fast' | 'durable'
>;
const secret = 'bench-secret-of-at-least-32-characters-long';
const seller = '3fa85f64-5717-4562-b3fc-2c963f66afa6';
const json = { 'content-type': 'application/json' };

interface Row {
  requestsPerSecond: number;
  latencyP50ms: number;
  latencyP99ms: number;
  non2xx: number;
  errors: number;
}

type Load = Omit<autocannon.Options, 'duration' | 'connections'>;

async function measure(options: Load, seconds = duration): Promise<Row> {
  const result = await autocannon({ ...options, duration: seconds, connections });
  return {
    requestsPerSecond: result.requests.average,
    latencyP50ms: result.latency.p50,
    latencyP99ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

/** Rounds of one endpoint as one row: mean req/s, the worst round's percentiles, all failures. */
const combine = (runs: Row[]): Row => ({
  requestsPerSecond: runs.reduce((s, r) => s + r.requestsPerSecond, 0) / runs.length,
  latencyP50ms: Math.max(...runs.map((r) => r.latencyP50ms)),
  latencyP99ms: Math.max(...runs.map((r) => r.latencyP99ms)),
  non2xx: runs.reduce((s, r) => s + r.non2xx, 0),
  errors: runs.reduce((s, r) => s + r.errors, 0),
});

/**
 * Live products of the bench seller at version 1, written straight into the table: each PATCH and
 * DELETE request takes the next one and names version 1 in If-Match, so every request is a real
 * change that should succeed (never a 409 on a product another request already moved).
 */
async function seedProducts(databaseUrl: string, count: number): Promise<string[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ id: string }>(
      `insert into product (id, seller_id, title, description, price, currency, stock, version, created_at, updated_at)
       select gen_random_uuid(), $1, 'Bench product ' || n, null, 9.99, 'USD', 10, 1, now(), now()
       from generate_series(1, $2::int) as n
       returning id`,
      [seller, count],
    );
    return rows.map((r) => r.id);
  } finally {
    await client.end();
  }
}

/** One request per product in `ids`, in order; past the end it repeats (and those answer 409/404). */
function onePerProduct(ids: string[], method: 'PATCH' | 'DELETE', headers: Record<string, string>): Load {
  let next = 0;
  return {
    url: 'http://placeholder',
    requests: [
      {
        method,
        headers: { ...headers, 'If-Match': '"1"' },
        ...(method === 'PATCH' ? { body: JSON.stringify({ stock: 11 }) } : {}),
        setupRequest: (req: autocannon.Request) => ({
          ...req,
          path: `/products/${ids[next++ % ids.length]}`,
        }),
      },
    ],
  };
}

async function runProfile(profile: 'fast' | 'durable') {
  const server = profile === 'durable' ? await startPrivatePostgres({ durable: true }) : undefined;
  const db = await createTestDatabase('bench_api', server?.url);
  try {
    await migrate(db.url);
    const [apiPort, basePort] = [await freePort(), await freePort()];
    const common = { DATABASE_URL: db.url, HOST: '127.0.0.1', LOG_LEVEL: 'warn', DB_POOL_MAX: '20' };
    const api = startService('services/api/src/main.ts', {
      ...common,
      PORT: String(apiPort),
      JWT_SECRET: secret,
    });
    const base = startService('bench/baseline-insert-server.ts', { ...common, PORT: String(basePort) });
    try {
      for (const port of [apiPort, basePort]) {
        await waitFor(
          async () =>
            (await fetch(`http://127.0.0.1:${port}/rows`, { method: 'OPTIONS' }).catch(() => undefined)) !==
            undefined,
          { description: `server on ${port}` },
        );
      }
      const token = await sign({ sub: seller, exp: Math.floor(Date.now() / 1000) + 3600 }, secret, 'HS256');
      const auth = { ...json, authorization: `Bearer ${token}` };
      const body = JSON.stringify({ title: 'Wireless Mouse', price: 15.99, stock: 100 });
      const post: Load = { url: `http://127.0.0.1:${apiPort}/products`, method: 'POST', headers: auth, body };
      const insert: Load = { url: `http://127.0.0.1:${basePort}/rows`, method: 'POST', headers: json, body };

      // Warm both up (JIT, pools, prepared statements) before measuring.
      await measure(post, 2);
      await measure(insert, 2);
      const posts: Row[] = [];
      const inserts: Row[] = [];
      for (let round = 0; round < rounds; round++) {
        posts.push(await measure(post));
        inserts.push(await measure(insert));
      }
      const products = combine(posts);
      const baseline = combine(inserts);

      // Enough products that no request has to reuse one, at well over the POST rate.
      const needed = Math.ceil(Math.max(products.requestsPerSecond, 1000) * duration * 3);
      const toPatch = await seedProducts(db.url, needed);
      const toDelete = await seedProducts(db.url, needed);
      const patch = await measure({
        ...onePerProduct(toPatch, 'PATCH', auth),
        url: `http://127.0.0.1:${apiPort}`,
      });
      const remove = await measure({
        ...onePerProduct(toDelete, 'DELETE', auth),
        url: `http://127.0.0.1:${apiPort}`,
      });
      return {
        profile,
        products,
        patch,
        delete: remove,
        baseline,
        ratio: products.requestsPerSecond / baseline.requestsPerSecond,
        rounds: { products: posts, baseline: inserts },
      };
    } finally {
      api.child.kill('SIGTERM');
      base.child.kill('SIGTERM');
      await Promise.all([api.exited, base.exited]);
    }
  } finally {
    await db.drop();
    await server?.destroy();
  }
}

function printTable(r: Awaited<ReturnType<typeof runProfile>>): void {
  const describe =
    r.profile === 'durable'
      ? 'private PostgreSQL, fsync on, synchronous_commit on'
      : 'shared infra PostgreSQL, fsync off, synchronous_commit off';
  console.log(`\nprofile ${r.profile} (${describe})`);
  console.log(
    `${duration} s per run, ${connections} connections, loopback; POST and INSERT: ${rounds} rounds`,
  );
  console.log('endpoint                              req/s     p50 ms   p99 ms   non-2xx   errors');
  const row = (name: string, x: Row) =>
    console.log(
      `${name.padEnd(36)} ${x.requestsPerSecond.toFixed(0).padStart(6)} ${String(x.latencyP50ms).padStart(9)} ${String(x.latencyP99ms).padStart(8)} ${String(x.non2xx).padStart(9)} ${String(x.errors).padStart(8)}`,
    );
  row('POST /products (product+outbox)', r.products);
  row('PATCH /products/:id', r.patch);
  row('DELETE /products/:id', r.delete);
  row('POST /rows (single INSERT)', r.baseline);
  console.log(`ratio POST /products ÷ INSERT: ${r.ratio.toFixed(2)} (goal ≥ 0.8)`);
}

const results = [];
for (const profile of profiles) {
  const result = await runProfile(profile);
  printTable(result);
  results.push(result);
}
const when = new Date().toISOString();
const dir = join(repoRoot, 'bench', 'results');
await mkdir(dir, { recursive: true });
const file = join(dir, `api-${when.replace(/[:.]/g, '-')}.json`);
await writeFile(file, `${JSON.stringify({ when, duration, connections, rounds, results }, null, 2)}\n`);
console.log(`written: ${file}`);
