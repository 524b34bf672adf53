import { describe, expect, it } from '@jest/globals';
import { redraw, renderLine, renderScreen } from './render.js';
import type { Snapshot } from './snapshot.js';

const snapshot: Snapshot = {
  at: '2026-11-29T10:11:12.000Z',
  intervalSeconds: 1,
  components: [
    { role: 'api', url: 'http://127.0.0.1:8080/metrics', up: true },
    { role: 'relay', url: 'http://127.0.0.1:9464/metrics', up: true },
    { role: 'relay', url: 'http://127.0.0.1:9474/metrics', up: false, error: 'ECONNREFUSED' },
  ],
  api: { requestsTotal: 10, requestsPerSecond: 12.34 },
  outbox: {
    pending: 3,
    blocked: 5,
    oldestPendingAgeSeconds: 0.42,
    dead: 1,
    source: 'database',
    database: { pending: 3, blocked: 5, dead: 1, oldestPendingAgeSeconds: 0.42 },
    relays: { pending: 2, blocked: 5, dead: 1, oldestPendingAgeSeconds: 0.3 },
    publishedTotal: 500,
    publishedPerSecond: 99.5,
    publishFailuresTotal: 0,
    publishFailuresPerSecond: 0,
  },
  consumer: {
    lagMessages: 4,
    lagSeconds: 0.2,
    appliedTotal: 490,
    appliedPerSecond: 98,
    duplicatesTotal: 0,
    dlqTotal: 2,
    endToEnd: { events: 98, p50Seconds: 0.035, p99Seconds: null },
  },
};

describe('render', () => {
  it('shows every number of the snapshot on the screen, and names what is down', () => {
    const screen = renderScreen(snapshot, { intervalMs: 1000 }).join('\n');
    for (const text of [
      '10:11:12 UTC',
      'api up · relay :9464 up · relay :9474 DOWN',
      '12.3/s requests',
      'pending 3 · oldest 0.4 s · DEAD 1 · blocked behind DEAD 5  (database)',
      'published 99.5/s (total 500)',
      'lag 4 msgs · 0.2 s',
      'DLQ 2',
      'p50 35 ms · p99 –',
      '98 events',
      '! relay http://127.0.0.1:9474/metrics: ECONNREFUSED',
    ]) {
      expect(screen).toContain(text);
    }
    expect(screen).toContain('every 1 s · Ctrl-C to stop');
    expect(renderScreen(snapshot, { intervalMs: 500, once: true })[0]).toBe(
      'shopstream · 10:11:12 UTC · rates over 0.5 s',
    );
  });

  it('fits a log line with the essentials', () => {
    expect(renderLine(snapshot)).toBe(
      '2026-11-29T10:11:12.000Z | api 12.3/s | pending 3 oldest 0.4 s DEAD 1 blocked 5 | published 99.5/s failures 0 | lag 4 (0.2 s) DLQ 2 | e2e p50 35 ms p99 – | DOWN relay :9474',
    );
  });

  it('redraws over the previous frame and cuts lines to the terminal width', () => {
    expect(redraw(['ab', 'cd'], 0)).toBe('ab\x1b[K\ncd\x1b[K\n\x1b[J');
    expect(redraw(['abcdef'], 3, 4)).toBe('\x1b[3A\rabc\x1b[K\n\x1b[J');
  });
});
