import { describe, expect, it } from '@jest/globals';
import { chooseOperation, countsMatch, percentiles, ProductRotation, summarizeEvents } from './plan.js';
import type { EventTiming } from './plan.js';

describe('chooseOperation', () => {
  const mix = (n: number, updateShare: number, warmupCreates: number) =>
    Array.from({ length: n }, (_, i) => chooseOperation(i, { updateShare, warmupCreates, idleProducts: 5 }));

  it('creates during the warm-up, then keeps the update share exactly', () => {
    const ops = mix(110, 0.5, 10);
    expect(ops.slice(0, 10).every((o) => o === 'create')).toBe(true);
    expect(ops.slice(10).filter((o) => o === 'update')).toHaveLength(50);
    expect(ops.slice(10, 14)).toEqual(['create', 'update', 'create', 'update']);
    expect(mix(100, 0.25, 0).filter((o) => o === 'update')).toHaveLength(25);
    expect(mix(100, 0, 0).every((o) => o === 'create')).toBe(true);
  });

  it('creates when every product has a request in flight', () => {
    expect(chooseOperation(11, { updateShare: 0.5, warmupCreates: 10, idleProducts: 0 })).toBe('create');
  });
});

describe('ProductRotation', () => {
  it('hands out idle products round-robin and keeps the newest version', () => {
    const r = new ProductRotation();
    r.add('a', 1);
    r.add('b', 1);
    const first = r.take()!;
    expect(first).toEqual({ id: 'a', version: 1 });
    expect(r.idleCount).toBe(1);
    r.giveBack('a', 2);
    expect(r.take()).toEqual({ id: 'b', version: 1 });
    expect(r.take()).toEqual({ id: 'a', version: 2 });
    expect(r.take()).toBeUndefined();
    r.giveBack('b', 1); // a failed update leaves the version as it was
    expect([...r.finalVersions]).toEqual([
      ['a', 2],
      ['b', 1],
    ]);
  });
});

describe('percentiles', () => {
  it('takes nearest-rank values, ordered', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i); // 1..100, unsorted
    expect(percentiles(values)).toEqual({ count: 100, p50: 50, p95: 95, p99: 99, max: 100 });
    expect(percentiles([7])).toEqual({ count: 1, p50: 7, p95: 7, p99: 7, max: 7 });
    expect(percentiles([])).toEqual({ count: 0, p50: null, p95: null, p99: null, max: null });
  });
});

describe('summarizeEvents and countsMatch', () => {
  const event = (
    id: string,
    applied: number | null,
    applications = applied === null ? 0 : 1,
  ): EventTiming => ({
    id,
    status: 'PUBLISHED',
    createdMs: 1000,
    publishedMs: 1010,
    appliedMs: applied,
    applications,
  });
  const readModel = { products: 2, current: 2 };

  it('measures commit → published → applied per event', () => {
    const outcome = summarizeEvents([event('1', 1030), event('2', 1050)]);
    expect(outcome).toMatchObject({
      outboxEvents: 2,
      published: 2,
      applied: 2,
      appliedMoreThanOnce: 0,
      notApplied: 0,
    });
    expect(outcome.commitToAppliedMs).toMatchObject({ p50: 30, max: 50 });
    expect(outcome.commitToPublishedMs).toMatchObject({ p50: 10 });
    expect(outcome.publishedToAppliedMs).toMatchObject({ p50: 20, max: 40 });
    expect(countsMatch({ writesOk: 2, outcome, readModel })).toBe(true);
  });

  it('says no when an event is missing, unapplied, applied twice, or the read model lags', () => {
    const ok = summarizeEvents([event('1', 1030), event('2', 1050)]);
    expect(countsMatch({ writesOk: 3, outcome: ok, readModel })).toBe(false);
    expect(countsMatch({ writesOk: 2, outcome: ok, readModel: { products: 2, current: 1 } })).toBe(false);
    const unapplied = summarizeEvents([event('1', 1030), event('2', null)]);
    expect(unapplied.notApplied).toBe(1);
    expect(countsMatch({ writesOk: 2, outcome: unapplied, readModel })).toBe(false);
    const twice = summarizeEvents([event('1', 1030), event('2', 1050, 2)]);
    expect(twice.appliedMoreThanOnce).toBe(1);
    expect(countsMatch({ writesOk: 2, outcome: twice, readModel })).toBe(false);
  });
});
