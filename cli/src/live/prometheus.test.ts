import { describe, expect, it } from '@jest/globals';
import { Counter, Histogram, Registry } from 'prom-client';
import {
  bucketDelta,
  bucketsOf,
  histogramQuantile,
  maxOf,
  parsePrometheusText,
  sumOf,
} from './prometheus.js';

describe('parsePrometheusText', () => {
  it('reads what prom-client serves, labels with escapes included', async () => {
    const registry = new Registry();
    const counter = new Counter({ name: 'c_total', help: 'h', labelNames: ['kind'], registers: [registry] });
    counter.inc({ kind: 'a "quoted", back\\slash\nnewline' }, 3);
    counter.inc({ kind: 'plain' }, 2);
    const histogram = new Histogram({
      name: 'h_seconds',
      help: 'h',
      buckets: [0.1, 1],
      registers: [registry],
    });
    histogram.observe(0.05);
    histogram.observe(0.5);
    histogram.observe(5);

    const samples = parsePrometheusText(await registry.metrics());

    expect(samples).toContainEqual({
      name: 'c_total',
      labels: { kind: 'a "quoted", back\\slash\nnewline' },
      value: 3,
    });
    expect(sumOf(samples, 'c_total')).toBe(5);
    expect(sumOf(samples, 'c_total', { kind: 'plain' })).toBe(2);
    expect(sumOf(samples, 'missing')).toBeUndefined();
    expect([...bucketsOf(samples, 'h_seconds')]).toEqual([
      [0.1, 1],
      [1, 2],
      [Infinity, 3],
    ]);
    expect(sumOf(samples, 'h_seconds_count')).toBe(3);
  });

  it('accepts timestamps, special values, empty and trailing-comma label sets', () => {
    const samples = parsePrometheusText(
      '# HELP x y\n# TYPE x gauge\nx{} +Inf\ny{a="1",} NaN 1700000000000\nz -Inf\nw 1e3\n\n',
    );
    expect(samples.map((s) => [s.name, s.labels, s.value])).toEqual([
      ['x', {}, Infinity],
      ['y', { a: '1' }, NaN],
      ['z', {}, -Infinity],
      ['w', {}, 1000],
    ]);
  });

  it('names the line of a malformed sample', () => {
    expect(() => parsePrometheusText('ok 1\nbroken{a=1} 2')).toThrow(/line 2/);
    expect(() => parsePrometheusText('v abc')).toThrow(/line 1/);
  });

  it('maxOf takes the largest series', () => {
    const samples = parsePrometheusText('g{p="0"} 3\ng{p="1"} 7\ng{p="2"} 1');
    expect(maxOf(samples, 'g')).toBe(7);
    expect(maxOf(samples, 'other')).toBeUndefined();
  });
});

describe('histogramQuantile', () => {
  const buckets = (entries: [number, number][]) => new Map(entries);

  it('interpolates inside the bucket holding the rank, like Prometheus', () => {
    // 10 observations: 4 ≤ 0.1, 8 ≤ 1, 10 ≤ +Inf.
    const b = buckets([
      [0.1, 4],
      [1, 8],
      [Infinity, 10],
    ]);
    expect(histogramQuantile(0.2, b)).toBeCloseTo(0.05); // rank 2 of 4 in [0, 0.1]
    expect(histogramQuantile(0.6, b)).toBeCloseTo(0.55); // rank 6: half-way through (0.1, 1]
    expect(histogramQuantile(0.99, b)).toBe(1); // in +Inf: the highest finite bound
  });

  it('is undefined without observations or without a +Inf bucket', () => {
    expect(histogramQuantile(0.5, buckets([]))).toBeUndefined();
    expect(histogramQuantile(0.5, buckets([[Infinity, 0]]))).toBeUndefined();
    expect(histogramQuantile(0.5, buckets([[1, 3]]))).toBeUndefined();
  });

  it('bucketDelta subtracts the earlier scrape, or starts over after a counter reset', () => {
    const before = buckets([
      [1, 5],
      [Infinity, 6],
    ]);
    expect([
      ...bucketDelta(
        before,
        buckets([
          [1, 7],
          [Infinity, 9],
        ]),
      ),
    ]).toEqual([
      [1, 2],
      [Infinity, 3],
    ]);
    expect([
      ...bucketDelta(
        before,
        buckets([
          [1, 1],
          [Infinity, 1],
        ]),
      ),
    ]).toEqual([
      [1, 1],
      [Infinity, 1],
    ]);
  });
});
