import { describe, expect, it } from 'vitest';
import { expectClose } from './expect-close.js';
import reference from './fixtures/reference.json' with { type: 'json' };
import { wilsonInterval } from './wilson-interval.js';

// Closed forms over the normal quantile (itself good to ~1e-16): 1e-12 relative, plus 1e-15
// absolute for bounds that are exactly 0 or 1 and come out of statsmodels as ±1e-17.
const RELATIVE = 1e-12;
const ABSOLUTE = 1e-15;

describe('wilsonInterval', () => {
  it("matches statsmodels proportion_confint(method='wilson')", () => {
    for (const row of reference.wilson) {
      const interval = wilsonInterval({ successes: row.successes, trials: row.trials }, row.alpha);
      const label = `${row.successes}/${row.trials} α=${row.alpha}`;
      expectClose(interval.lower, row.lower, RELATIVE, ABSOLUTE, `${label} lower`);
      expectClose(interval.upper, row.upper, RELATIVE, ABSOLUTE, `${label} upper`);
    }
  });

  it('is exactly [0, …] with no successes and […, 1] with only successes', () => {
    expect(wilsonInterval({ successes: 0, trials: 20 }).lower).toBe(0);
    expect(wilsonInterval({ successes: 20, trials: 20 }).upper).toBe(1);
  });

  it('rejects alpha outside (0, 1)', () => {
    expect(() => wilsonInterval({ successes: 1, trials: 2 }, 0)).toThrow(RangeError);
  });
});
