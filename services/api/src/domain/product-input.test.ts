import { priceSchema } from './product-input.js';

describe('priceSchema', () => {
  it.each([
    [15.99, '15.99'],
    ['15.99', '15.99'],
    [15, '15.00'],
    ['0.5', '0.50'],
    [' 7.1 ', '7.10'],
    ['0009.99', '9.99'],
    [9_999_999_999.99, '9999999999.99'],
  ])('normalises %p to %p', (input, expected) => {
    expect(priceSchema.parse(input)).toBe(expected);
  });

  it.each([0, -1, 1.005, '1.', '.5', '1e3', 1e21, Number.NaN, 10_000_000_000, '', 'abc'])(
    'rejects %p',
    (input) => {
      expect(priceSchema.safeParse(input).success).toBe(false);
    },
  );
});
