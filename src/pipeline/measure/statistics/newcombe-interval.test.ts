import { describe, expect, it } from 'vitest';
import { expectClose } from './expect-close.js';
import reference from './fixtures/reference.json' with { type: 'json' };
import { newcombeInterval } from './newcombe-interval.js';

// See wilson-interval.test.ts for the tolerances.
const RELATIVE = 1e-12;
const ABSOLUTE = 1e-15;

describe('newcombeInterval', () => {
  it("matches statsmodels confint_proportions_2indep(method='newcomb')", () => {
    for (const row of reference.newcombe) {
      const interval = newcombeInterval(
        { successes: row.successes1, trials: row.trials1 },
        { successes: row.successes2, trials: row.trials2 },
        row.alpha,
      );
      const label = `${row.successes1}/${row.trials1} vs ${row.successes2}/${row.trials2}`;
      expectClose(interval.lower, row.lower, RELATIVE, ABSOLUTE, `${label} lower`);
      expectClose(interval.upper, row.upper, RELATIVE, ABSOLUTE, `${label} upper`);
    }
  });

  it('contains the observed difference', () => {
    const interval = newcombeInterval({ successes: 7, trials: 30 }, { successes: 2, trials: 25 });
    const difference = 7 / 30 - 2 / 25;
    expect(interval.lower).toBeLessThan(difference);
    expect(interval.upper).toBeGreaterThan(difference);
  });
});
