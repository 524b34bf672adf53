import { describe, expect, it } from '@jest/globals';
import { DEFAULT_METRICS_URLS, parseTargets } from './targets.js';

describe('parseTargets', () => {
  it('reads the npm start defaults: two relays, one of each other role', () => {
    const targets = parseTargets(DEFAULT_METRICS_URLS);
    expect(targets.map((t) => `${t.role} ${t.url}`)).toEqual([
      'api http://127.0.0.1:8080/metrics',
      'relay http://127.0.0.1:9464/metrics',
      'relay http://127.0.0.1:9474/metrics',
      'consumer http://127.0.0.1:9465/metrics',
      'operator http://127.0.0.1:9466/metrics',
    ]);
  });

  it('completes host:port and keeps explicit paths', () => {
    expect(parseTargets(' relay=127.0.0.1:1234 , api=https://api.example/custom/metrics ,')).toEqual([
      { role: 'relay', url: 'http://127.0.0.1:1234/metrics' },
      { role: 'api', url: 'https://api.example/custom/metrics' },
    ]);
  });

  it('refuses unknown roles, missing urls and an empty list', () => {
    expect(() => parseTargets('db=127.0.0.1:5432')).toThrow(/bad metrics target "db=127.0.0.1:5432"/);
    expect(() => parseTargets('relay=')).toThrow(/bad metrics target/);
    expect(() => parseTargets('127.0.0.1:9464')).toThrow(/role=url/);
    expect(() => parseTargets(' , ')).toThrow(/no metrics targets/);
    expect(() => parseTargets('api=http://[bad')).toThrow(/bad metrics target/);
  });
});
