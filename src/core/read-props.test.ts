import { describe, expect, it } from 'vitest';
import { asTimeMs, orderValueIn, rateOf } from './read-props.js';

describe('asTimeMs', () => {
  it('reads ISO-8601 text and epoch milliseconds', () => {
    expect(asTimeMs('2026-06-03T12:00:00Z')).toBe(Date.UTC(2026, 5, 3, 12));
    expect(asTimeMs('2026-06-03')).toBe(Date.UTC(2026, 5, 3));
    expect(asTimeMs(Date.UTC(2026, 5, 3, 12))).toBe(Date.UTC(2026, 5, 3, 12));
    expect(asTimeMs(0)).toBe(0);
  });

  it('reads the years 1900 to 9999, from their first to their last millisecond', () => {
    expect(asTimeMs(Date.UTC(1900, 0, 1))).toBe(Date.UTC(1900, 0, 1));
    expect(asTimeMs(Date.UTC(10000, 0, 1) - 1)).toBe(Date.UTC(10000, 0, 1) - 1);
    expect(asTimeMs('9999-12-31T23:59:59.999Z')).toBe(Date.UTC(10000, 0, 1) - 1);
    expect(asTimeMs(Date.UTC(1900, 0, 1) - 1)).toBeNull();
    expect(asTimeMs(Date.UTC(10000, 0, 1))).toBeNull();
  });

  it('takes no number beyond any calendar for a time: nanoseconds, microseconds, infinities', () => {
    // Go's time.Now().UnixNano() for 2026-06-03: past the ±8.64e15 ms JavaScript dates reach.
    expect(asTimeMs(1_780_488_000_000_000_000)).toBeNull();
    expect(asTimeMs(-1_780_488_000_000_000_000)).toBeNull();
    expect(asTimeMs(8.64e15 + 1)).toBeNull();
    // Microseconds: a date JavaScript has, tens of thousands of years ahead.
    expect(asTimeMs(1_780_488_000_000_000)).toBeNull();
    for (const value of [Number.NaN, Infinity, -Infinity, Number.MAX_VALUE])
      expect(asTimeMs(value), String(value)).toBeNull();
  });

  it('takes no placeholder date for a time (the zero time of Go and .NET)', () => {
    expect(asTimeMs('0001-01-01T00:00:00Z')).toBeNull();
    expect(asTimeMs('1899-12-31')).toBeNull();
  });

  it('reads nothing else as a time', () => {
    for (const value of [null, undefined, '', 'yesterday', '1', '2024-02-30', true, {}, []])
      expect(asTimeMs(value), JSON.stringify(value)).toBeNull();
  });
});

describe('orderValueIn', () => {
  const money = { currency: 'USD', exchangeRates: { EUR: 1.1, JPY: 0.0067, USD: 2 } };

  it('takes an order stating no currency, or the one kept, as it is', () => {
    expect(orderValueIn({ total: 12.5 }, money)).toBe(1250);
    expect(orderValueIn({ total: 12.5, currency: ' usd ' }, money)).toBe(1250);
  });

  it('converts another currency at its rate, to whole cents', () => {
    expect(orderValueIn({ total: 200, currency: 'EUR' }, money)).toBe(22000);
    expect(orderValueIn({ revenue: 10_000, currency: 'jpy' }, money)).toBe(6700);
    expect(orderValueIn({ products: [{ price: 0.99, quantity: 3 }], currency: 'EUR' }, money)).toBe(
      327,
    );
  });

  it('rounds half a cent up, as it is written, not as binary floating point holds it', () => {
    expect(orderValueIn({ total: '1.005' }, money)).toBe(101);
    expect(orderValueIn({ total: '1.015' }, money)).toBe(102);
    expect(orderValueIn({ total: 2.675 }, money)).toBe(268);
    expect(orderValueIn({ total: 1.004 }, money)).toBe(100);
    expect(orderValueIn({ products: [{ price: '1.005' }] }, money)).toBe(101);
    expect(orderValueIn({ total: 19.99 }, money)).toBe(1999);
  });

  it('rounds each product line, not each unit, to whole cents', () => {
    expect(orderValueIn({ products: [{ price: 0.015, quantity: 500 }] }, money)).toBe(750);
    expect(
      orderValueIn({ products: [{ price: 0.125, quantity: 8 }, { price: 19.99 }] }, money),
    ).toBe(2099);
  });

  it('counts nothing of an amount that converted is past what cents hold exactly', () => {
    const strong = { currency: 'JPY', exchangeRates: { USD: 150 } };
    expect(orderValueIn({ total: 90_071_992_547_409, currency: 'USD' }, strong)).toBe(0);
    expect(orderValueIn({ total: 100, currency: 'USD' }, strong)).toBe(1_500_000);
  });

  it('counts nothing of a currency with no rate', () => {
    expect(orderValueIn({ total: 50_000, currency: 'GBP' }, money)).toBe(0);
    expect(rateOf('GBP', money)).toBeNull();
    expect(orderValueIn({ total: 5, currency: 'dollars' }, money)).toBe(0);
    // Not a currency at all: not the one amounts are kept in either.
    expect(orderValueIn({ total: 5, currency: true }, money)).toBe(0);
    expect(orderValueIn({ total: 5, currency: { code: 'USD' } }, money)).toBe(0);
    expect(orderValueIn({ total: 5, currency: ' ' }, money)).toBe(500);
  });
});
