import { buildProductEvent, newId } from '@shopstream/shared';
import { fixtureProducer, insertEvents, productSnapshot, waitFor } from '../../harness/index.js';
import {
  isExported,
  panelTargets,
  readDashboards,
  readRuleFile,
  shopstreamMetricNames,
  substituteVariables,
} from './observability-files.js';
import type { GrafanaDashboard, PanelTarget } from './observability-files.js';
import { startObservedStack, startPrometheus } from './observability-stack.js';
import type { Component, ObservedStack, PrometheusServer } from './observability-stack.js';

const SELLER = '3fa85f64-5717-4562-b3fc-2c963f66afa6';

/**
 * The dashboards and alerts against real data: the four processes run on the real infrastructure,
 * a real Prometheus scrapes them every second, and every panel query must return series.
 */
describe('the Grafana dashboards and alert expressions on a running stack', () => {
  let stack: ObservedStack;
  let prometheus: PrometheusServer;
  let dashboards: Map<string, GrafanaDashboard>;
  let targets: (PanelTarget & { query: string })[];

  beforeAll(async () => {
    dashboards = await readDashboards();
    targets = [...dashboards].flatMap(([file, d]) =>
      panelTargets(file, d).map((t) => ({ ...t, query: substituteVariables(t.expr, d) })),
    );
    stack = await startObservedStack();
    prometheus = await startPrometheus(stack.metricsTargets);

    // Traffic: creates and updates through the API...
    const auth = { Authorization: `Bearer ${await stack.token(SELLER)}`, 'Content-Type': 'application/json' };
    for (let i = 0; i < 20; i++) {
      const created = await fetch(`${stack.apiUrl}/products`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ title: `Dashboard item ${i}`, price: 10 + i, stock: i }),
      });
      expect(created.status).toBe(201);
      const { id, version } = (await created.json()) as { id: string; version: number };
      if (i % 4 === 0) {
        const updated = await fetch(`${stack.apiUrl}/products/${id}`, {
          method: 'PATCH',
          headers: auth,
          body: JSON.stringify({ stock: i + 1, version }),
        });
        expect(updated.status).toBe(200);
      }
    }
    // ...an outbox event larger than the topic accepts (publish failures, then DEAD)...
    const poison = newId();
    await insertEvents(stack.sql, [
      buildProductEvent(
        'product.created',
        productSnapshot(poison, 1, { title: 'Poster', description: 'x'.repeat(150_000) }),
        { shardCount: 64, topic: stack.topic },
      ),
    ]);
    // ...and a record no handler accepts (dead-lettered by the consumer).
    const producer = fixtureProducer(stack.kafka);
    await producer.connect();
    await producer.send({ topic: stack.topic, messages: [{ key: poison, value: 'not an event' }] });
    await producer.disconnect();

    await waitFor(
      async () => {
        const { rows } = await stack.sql.query<{ n: number }>(
          `select count(*)::int as n from outbox_event where status = 'DEAD'`,
        );
        return rows[0]!.n === 1;
      },
      { description: 'the oversized event to go DEAD', timeoutMs: 60_000 },
    );
  }, 180_000);

  afterAll(async () => {
    await prometheus?.stop();
    await stack?.stop();
  });

  it('has Pipeline overview and Consumer lag dashboards with a prometheus ${datasource} variable', () => {
    expect([...dashboards.values()].map((d) => d.title).sort()).toEqual([
      'shopstream / Consumer lag',
      'shopstream / Pipeline overview',
    ]);
    for (const d of dashboards.values()) {
      expect(d.schemaVersion).toBeGreaterThanOrEqual(36);
      expect(d.templating.list).toContainEqual(
        expect.objectContaining({ name: 'datasource', type: 'datasource', query: 'prometheus' }),
      );
      expect(JSON.stringify(d.panels)).not.toMatch(/"uid":\s*"(?!\$\{datasource\}|-- Grafana --)/);
    }
    expect(targets.length).toBeGreaterThan(15);
  });

  it('every panel query parses and returns data through the Prometheus HTTP API', async () => {
    const empty = async () => {
      const failing: string[] = [];
      for (const t of targets) {
        const res = await prometheus.query(t.query);
        if (res.status !== 'success') failing.push(`${t.dashboard} "${t.panel}" ${t.refId}: ${res.error}`);
        else if (!res.data?.result.length) failing.push(`${t.dashboard} "${t.panel}" ${t.refId}: no data`);
      }
      return failing;
    };
    let failing: string[] = [];
    await waitFor(
      async () => {
        failing = await empty();
        return failing.length === 0;
      },
      { description: 'every panel to have data', timeoutMs: 90_000, intervalMs: 2000 },
    ).catch(() => undefined);
    expect(failing).toEqual([]);

    // The data is the traffic's, not just present: 20 creates and 5 updates published, one DEAD
    // event, one dead-lettered record, one consumer group with lag gauges on 3 partitions.
    const value = async (expr: string) =>
      Number(((await prometheus.query(expr)).data?.result[0] as { value: [number, string] }).value[1]);
    await waitFor(async () => (await value('sum(shopstream_outbox_published_total)')) === 25, {
      description: '25 published events in Prometheus',
      timeoutMs: 30_000,
    });
    expect(await value('sum(shopstream_outbox_dead_events)')).toBe(1);
    expect(await value('sum(shopstream_outbox_publish_failures_total)')).toBeGreaterThanOrEqual(2);
    await waitFor(
      async () =>
        (await value('sum(shopstream_consumer_events_total{outcome="dead_lettered"})')) === 1 &&
        (await value('sum(shopstream_consumer_events_total{outcome="applied"})')) === 25,
      { description: 'the consumer to apply 25 events and dead-letter one', timeoutMs: 30_000 },
    );
    expect(
      await value(`count(shopstream_consumer_lag_messages{group="${stack.group}", topic="${stack.topic}"})`),
    ).toBe(3);
    expect(
      await value(`max(shopstream_operator_relay_desired_replicas{pipeline="${stack.namespace}/products"})`),
    ).toBe(1);
  }, 150_000);

  it('every alert expression parses and evaluates', async () => {
    const rules = (await readRuleFile()).groups.flatMap((g) => g.rules);
    expect(rules.length).toBe(5);
    for (const rule of rules) {
      const res = await prometheus.query(rule.expr);
      expect({ alert: rule.alert, status: res.status, error: res.error }).toEqual({
        alert: rule.alert,
        status: 'success',
        error: undefined,
      });
    }
    // And a broken expression is reported as such (the check can fail).
    expect((await prometheus.query('sum by (namespace) (shopstream_outbox_dead_events > ')).status).toBe(
      'error',
    );
  });

  it('every shopstream_* metric a dashboard or an alert uses is exported by one of our processes', async () => {
    const exposition = new Map<Component, string>();
    for (const [c, target] of Object.entries(stack.metricsTargets)) {
      exposition.set(c as Component, await (await fetch(`http://${target}/metrics`)).text());
    }
    const all = [...exposition.values()].join('\n');
    const used = new Set([
      ...targets.flatMap((t) => shopstreamMetricNames(t.expr)),
      ...(await readRuleFile()).groups.flatMap((g) => g.rules.flatMap((r) => shopstreamMetricNames(r.expr))),
    ]);
    expect(used.size).toBeGreaterThanOrEqual(12);
    const missing = [...used].filter((name) => !isExported(name, all));
    expect(missing).toEqual([]);
    expect(isExported('shopstream_outbox_published_totals', all)).toBe(false);
    expect(isExported('shopstream_relay_owned_shards_bucket', all)).toBe(false);
  });
});
