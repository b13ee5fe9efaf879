import { describe, expect, it } from 'vitest';
import { expectClose } from './expect-close.js';
import reference from './fixtures/reference.json' with { type: 'json' };
import { betaTails } from './regularized-beta.js';

describe('betaTails', () => {
  it('matches scipy betainc to 1e-12 relative', () => {
    for (const row of reference.betaI) {
      const tails = betaTails(row.x, row.a, row.b);
      const label = `I(${row.x}; ${row.a}, ${row.b})`;
      expectClose(tails.lower, row.value, 1e-12, 0, label);
      // 1 − value is itself rounded in double precision, hence the absolute 2.3e-16.
      expectClose(tails.upper, 1 - row.value, 1e-12, 2.3e-16, `1 − ${label}`);
    }
  });

  it('rejects x outside [0, 1] and non-positive shapes', () => {
    expect(() => betaTails(1.1, 1, 1)).toThrow(RangeError);
    expect(() => betaTails(0.5, 0, 1)).toThrow(RangeError);
  });
});
