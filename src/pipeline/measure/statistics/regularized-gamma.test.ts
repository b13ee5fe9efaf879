import { describe, expect, it } from 'vitest';
import { expectClose } from './expect-close.js';
import reference from './fixtures/reference.json' with { type: 'json' };
import { gammaTails } from './regularized-gamma.js';

describe('gammaTails', () => {
  it('matches scipy gammainc and gammaincc to 1e-13 relative', () => {
    for (const row of reference.gammaQ) {
      const tails = gammaTails(row.a, row.x);
      expectClose(tails.upper, row.q, 1e-13, 0, `Q(${row.a}, ${row.x})`);
      expectClose(tails.lower, row.p, 1e-13, 0, `P(${row.a}, ${row.x})`);
      expectClose(tails.logUpper, Math.log(row.q), 1e-13, 1e-15, `ln Q(${row.a}, ${row.x})`);
    }
  });

  it('handles the ends of the range and rejects a ≤ 0 or x < 0', () => {
    expect(gammaTails(2, 0)).toEqual({ lower: 0, upper: 1, logUpper: 0 });
    expect(gammaTails(2, Infinity).upper).toBe(0);
    expect(() => gammaTails(0, 1)).toThrow(RangeError);
    expect(() => gammaTails(1, -1)).toThrow(RangeError);
  });
});
