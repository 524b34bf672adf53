/**
 * POST /products throughput (autocannon, loopback) next to a plain single-row INSERT endpoint on
 * the same machine in the same run. Usage: npm run bench:api -- [--duration 10] [--connections 20]
 * Needs the local infrastructure (`npm run infra -- up`). Prints a table; writes bench/results/api-*.json.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { sign } from 'hono/jwt';
import { migrate } from '@shopstream/shared';
import { createTestDatabase, freePort, repoRoot, startService, waitFor } from '../tests/harness/index.js';

const { values } = parseArgs({
  options: { duration: { type: 'string', default: '10' }, connections: { type: 'string', default: '20' } },
});
const duration = Number(values.duration);
const connections = Number(values.connections);
const secret = 'bench-secret-of-at-least-32-characters-long';
const seller = '3fa85f64-5717-4562-b3fc-2c963f66afa6';

async function load(url: string, headers: Record<string, string>, body: string) {
  const result = await autocannon({ url, method: 'POST', headers, body, duration, connections });
  return {
    requestsPerSecond: result.requests.average,
    latencyP50ms: result.latency.p50,
    latencyP99ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

const db = await createTestDatabase('bench_api');
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
        {
          description: `server on ${port}`,
        },
      );
    }
    const token = await sign({ sub: seller, exp: Math.floor(Date.now() / 1000) + 3600 }, secret, 'HS256');
    const body = JSON.stringify({ title: 'Wireless Mouse', price: 15.99, stock: 100 });
    const json = { 'content-type': 'application/json' };
    // Warm both up (JIT, pools) before measuring.
    await autocannon({
      url: `http://127.0.0.1:${apiPort}/products`,
      method: 'POST',
      headers: { ...json, authorization: `Bearer ${token}` },
      body,
      duration: 2,
      connections,
    });
    await autocannon({
      url: `http://127.0.0.1:${basePort}/rows`,
      method: 'POST',
      headers: json,
      body,
      duration: 2,
      connections,
    });

    const products = await load(
      `http://127.0.0.1:${apiPort}/products`,
      { ...json, authorization: `Bearer ${token}` },
      body,
    );
    const baseline = await load(`http://127.0.0.1:${basePort}/rows`, json, body);
    const ratio = products.requestsPerSecond / baseline.requestsPerSecond;
    const report = { when: new Date().toISOString(), duration, connections, products, baseline, ratio };

    console.log(`\nPOST throughput, ${duration} s each, ${connections} connections, loopback`);
    console.log('endpoint                          req/s     p50 ms   p99 ms   non-2xx');
    const row = (name: string, r: typeof products) =>
      console.log(
        `${name.padEnd(32)} ${r.requestsPerSecond.toFixed(0).padStart(6)} ${String(r.latencyP50ms).padStart(9)} ${String(r.latencyP99ms).padStart(8)} ${String(r.non2xx).padStart(9)}`,
      );
    row('POST /products (product+outbox)', products);
    row('POST /rows (single INSERT)', baseline);
    console.log(`ratio products/baseline: ${ratio.toFixed(2)}`);

    const dir = join(repoRoot, 'bench', 'results');
    await mkdir(dir, { recursive: true });
    const file = join(dir, `api-${report.when.replace(/[:.]/g, '-')}.json`);
    await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`written: ${file}`);
  } finally {
    api.child.kill('SIGTERM');
    base.child.kill('SIGTERM');
    await Promise.all([api.exited, base.exited]);
  }
} finally {
  await db.drop();
}
