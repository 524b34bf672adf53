import { decodeQuery, headerProblem, textIssues, textProblem } from './well-formed-text.js';

describe('textProblem', () => {
  it.each([
    ['plain text', 'Desk lamp', undefined],
    ['a paired surrogate (an emoji)', 'lamp \ud83d\udca1', undefined],
    ['U+FFFD', 'a\ufffdb', undefined],
    ['U+0000', 'a\u0000b', 'must not contain U+0000 (NUL)'],
    ['a lone high surrogate', 'a\ud800b', 'must not contain an unpaired UTF-16 surrogate'],
    ['a lone low surrogate', 'a\udc00b', 'must not contain an unpaired UTF-16 surrogate'],
    ['a high surrogate at the end', 'ab\udbff', 'must not contain an unpaired UTF-16 surrogate'],
    ['two high surrogates', '\ud800\ud800', 'must not contain an unpaired UTF-16 surrogate'],
  ])('%s', (_name, text, problem) => {
    expect(textProblem(text)).toBe(problem);
  });
});

describe('textIssues', () => {
  it('names every offending string by its dotted path, keys included', () => {
    expect(
      textIssues({ title: 'a\u0000', ok: 'fine', tags: ['x', '\udc00'], nested: { 'k\ud800': 1 } }, 'body'),
    ).toEqual([
      { field: 'title', message: 'must not contain U+0000 (NUL)' },
      { field: 'tags.1', message: 'must not contain an unpaired UTF-16 surrogate' },
      { field: 'nested.k\ud800', message: 'field name must not contain an unpaired UTF-16 surrogate' },
    ]);
  });

  it('names the root for a bare string', () => {
    expect(textIssues('\u0000', 'id')).toEqual([{ field: 'id', message: 'must not contain U+0000 (NUL)' }]);
  });
});

describe('headerProblem', () => {
  it('accepts printable ASCII and refuses control and non-ASCII characters', () => {
    expect(headerProblem('"3"')).toBeUndefined();
    expect(headerProblem('key-1\tx')).toBeUndefined();
    expect(headerProblem('a\u0000')).toBe('must not contain U+0000 (NUL)');
    expect(headerProblem('a\u0001')).toBe('must be printable ASCII');
    // A lone surrogate's bytes (ED A0 80) as Node hands them over: Latin-1 characters.
    expect(headerProblem('\u00ed\u00a0\u0080')).toBe('must be printable ASCII');
  });
});

describe('decodeQuery', () => {
  it('decodes percent-encoded UTF-8 and +, first value wins', () => {
    expect(decodeQuery('?q=caf%C3%A9+au+lait&q=second&limit=5&flag')).toEqual({
      values: { q: 'café au lait', limit: '5', flag: '' },
      issues: [],
    });
  });

  it('names a parameter whose percent-encoding is not UTF-8 (a lone surrogate, a bad escape)', () => {
    const { values, issues } = decodeQuery('q=%ED%A0%80&cursor=%zz&ok=1');
    expect(issues).toEqual([
      { field: 'q', message: 'must be percent-encoded UTF-8' },
      { field: 'cursor', message: 'must be percent-encoded UTF-8' },
    ]);
    expect(values).toEqual({ q: '%ED%A0%80', cursor: '%zz', ok: '1' });
  });

  it('keeps __proto__ an ordinary parameter', () => {
    const { values } = decodeQuery('__proto__=x');
    expect(Object.getPrototypeOf(values)).toBe(Object.prototype);
    expect(Object.keys(values)).toEqual(['__proto__']);
  });
});
