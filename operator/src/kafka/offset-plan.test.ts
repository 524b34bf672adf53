import { parseIsoDuration } from './offset-plan.js';

describe('parseIsoDuration', () => {
  it.each([
    ['PT15M', 15 * 60_000],
    ['P1D', 86_400_000],
    ['P1W', 7 * 86_400_000],
    ['PT1H30M', 90 * 60_000],
    ['PT0.5S', 500],
    ['P1DT2H', 26 * 3_600_000],
    ['-PT10S', -10_000],
  ])('%s is %d ms', (text, ms) => {
    expect(parseIsoDuration(text)).toBe(ms);
  });

  it.each(['P', 'PT', 'P1Y', 'P2M', 'PT5', '15m', 'P1DT'])('refuses %s', (text) => {
    expect(() => parseIsoDuration(text)).toThrow(RangeError);
  });
});
