import { sign } from 'hono/jwt';
import { freePort, startPrivateKafka, startService, waitFor } from '../../harness/index.js';
import type { PrivateKafka, ServiceProcess } from '../../harness/index.js';
import {
  orderViolations,
  readWholeTopic,
  relayFixture,
  relayMetric,
  versionsByProduct,
} from './relay-fixture.js';
import type { RelayFixture } from './relay-fixture.js';

const JWT_SECRET = 'outage-test-secret-at-least-32-characters';
const SELLER = '3fa85f64-5717-4562-b3fc-2c963f66afa6';

// DESIGN §9, row "Kafka down for seconds or hours": the relay's circuit opens, rows stay PENDING,
// the backlog drains in order on return, the API keeps accepting writes; never DEAD rows, never a
// manual requeue. The relays get a short record-retry schedule (3 attempts, 1 s cap) so the outage
// lasts several times longer than the whole schedule: under the old rule every row would be DEAD.
describe('Kafka down for seconds or hours', () => {
  let kafka: PrivateKafka;
  let f: RelayFixture;
  let api: ServiceProcess | undefined;
  let base = '';
  let token = '';
  beforeAll(async () => {
    kafka = await startPrivateKafka();
    f = await relayFixture({ partitions: 3, brokers: kafka.brokers });
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    api = startService('services/api/src/main.ts', {
      DATABASE_URL: f.db.url,
      PORT: String(port),
      HOST: '127.0.0.1',
      JWT_SECRET,
      PRODUCT_EVENTS_TOPIC: f.topic,
      LOG_LEVEL: 'warn',
    });
    await waitFor(async () => (await fetch(`${base}/readyz`).catch(() => undefined))?.ok, {
      description: 'the API to be ready',
      timeoutMs: 60_000,
    });
    token = await sign({ sub: SELLER, exp: Math.floor(Date.now() / 1000) + 3600 }, JWT_SECRET, 'HS256');
  });
  afterAll(async () => {
    api?.child.kill('SIGKILL');
    await api?.exited;
    await f?.close();
    await kafka?.destroy();
  });

  const headers = (): Record<string, string> => ({
    'Content-Type': 'application/json',
    Authorization: `Bearer ${token}`,
  });
  const create = async (i: number): Promise<string> => {
    const res = await fetch(`${base}/products`, {
      method: 'POST',
      headers: headers(),
      body: JSON.stringify({ title: `Lamp ${i}`, price: '19.90', stock: 10 }),
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { id: string }).id;
  };
  const update = async (id: string, version: number): Promise<void> => {
    const res = await fetch(`${base}/products/${id}`, {
      method: 'PATCH',
      headers: { ...headers(), 'If-Match': `"${version}"` },
      body: JSON.stringify({ stock: version }),
    });
    expect(res.status).toBe(200);
  };

  it('opens the circuit, counts no attempt, turns no row DEAD, and drains in order when Kafka returns', async () => {
    const env = {
      RELAY_MAX_ATTEMPTS: '3',
      RELAY_BACKOFF_BASE_MS: '200',
      RELAY_BACKOFF_MAX_MS: '1000',
      RELAY_CIRCUIT_BASE_MS: '200',
      RELAY_CIRCUIT_MAX_MS: '2000',
    };
    const relays = await Promise.all([f.startRelay(env), f.startRelay(env)]);
    const before = await Promise.all(Array.from({ length: 20 }, (_, i) => create(i)));
    await f.waitAllPublished(before.length);
    // Both relays must own shards before the outage: the first one up claims them all, and a relay
    // whose circuit is open hands none over (it only rebalances when it publishes), so a relay that
    // joined late would sit the outage out with nothing to publish and no circuit to open.
    await waitFor(
      async () => {
        for (const r of relays)
          if ((await relayMetric(r, 'shopstream_relay_owned_shards')) === 0) return false;
        return true;
      },
      { description: 'both relays to own shards', timeoutMs: 30_000 },
    );

    await kafka.stop();
    const outageStarted = Date.now();
    // Sellers keep writing for the whole outage (bounded: 20 s, sequential requests on loopback).
    const products = new Map<string, number>(before.map((id) => [id, 1]));
    let writesDuringOutage = 0;
    const circuitSeen = new Set<string>();
    let i = 0;
    while (Date.now() - outageStarted < 20_000) {
      const id = await create(100 + i++);
      products.set(id, 1);
      writesDuringOutage++;
      for (const existing of [...products.keys()].slice(0, 3 + (i % 17))) {
        if (i % 3 !== 0) continue;
        await update(existing, products.get(existing)!);
        products.set(existing, products.get(existing)! + 1);
        writesDuringOutage++;
      }
      const { rows } = await f.sql.query<{ dead: number; attempted: number }>(
        `select count(*) filter (where status = 'DEAD')::int as dead,
                count(*) filter (where attempts > 0)::int as attempted from outbox_event`,
      );
      expect(rows[0]).toEqual({ dead: 0, attempted: 0 });
      for (const r of relays)
        if ((await relayMetric(r, 'shopstream_relay_circuit_open')) === 1) circuitSeen.add(r.id);
    }
    for (const r of relays) {
      if (!circuitSeen.has(r.id)) {
        // What the relay did instead is the only clue to why: its own log.
        throw new Error(
          `${r.id}'s circuit was never seen open; its log:\n${r.output().split('\n').slice(-60).join('\n')}`,
        );
      }
    }
    const pendingAtReturn = (await f.statusCounts()).PENDING ?? 0;
    expect(pendingAtReturn).toBeGreaterThan(0);

    await kafka.start();
    const returned = Date.now();
    const total = [...products.values()].reduce((n, v) => n + v, 0);
    await f.waitAllPublished(total, 60_000);
    const drainMs = Date.now() - returned;

    expect(await f.statusCounts()).toEqual({ PUBLISHED: total });
    const { rows } = await f.sql.query<{ attempted: number }>(
      `select count(*)::int as attempted from outbox_event where attempts > 0`,
    );
    expect(rows[0]!.attempted).toBe(0);
    for (const r of relays) expect(await relayMetric(r, 'shopstream_relay_circuit_open')).toBe(0);

    const records = await readWholeTopic(f.brokers, f.topic);
    expect(new Set(records.map((r) => r.headers.ce_id)).size).toBe(total);
    const byProduct = versionsByProduct(records);
    expect(orderViolations(byProduct)).toEqual([]);
    for (const [id, versions] of byProduct) expect(Math.max(...versions)).toBe(products.get(id));
    process.stdout.write(
      `kafka outage: ${writesDuringOutage} writes during ${Math.round((returned - outageStarted) / 1000)} s, ` +
        `${pendingAtReturn} PENDING at return, 0 DEAD, drained in ${drainMs} ms, ${records.length - total} duplicates\n`,
    );
  });
});
