import { describe, expect, it } from 'vitest';
import { expectClose } from './expect-close.js';
import reference from './fixtures/reference.json' with { type: 'json' };
import { relativeLift } from './relative-lift.js';

// See wilson-interval.test.ts for the tolerance.
const RELATIVE = 1e-12;

describe('relativeLift', () => {
  it("matches statsmodels confint_proportions_2indep(compare='ratio', method='log') minus 1", () => {
    for (const row of reference.relativeLift) {
      const result = relativeLift(
        { successes: row.successes1, trials: row.trials1 },
        { successes: row.successes2, trials: row.trials2 },
        row.alpha,
      );
      expectClose(result.lift, row.lift, RELATIVE, 0, 'lift');
      expectClose(result.lower, row.lower, RELATIVE, 0, 'lower');
      expectClose(result.upper, row.upper, RELATIVE, 0, 'upper');
    }
  });

  it('reports an unbounded interval when an arm has no successes', () => {
    const none = { successes: 0, trials: 50 };
    const some = { successes: 4, trials: 50 };
    expect(relativeLift(none, some)).toMatchObject({ lift: -1, lower: -1, upper: Infinity });
    expect(relativeLift(some, none)).toMatchObject({ lift: Infinity, upper: Infinity });
    expect(relativeLift(none, none).lift).toBe(0);
  });

  it('keeps an interval when an arm converted every unit (½ added to each cell)', () => {
    // scipy: exp(ln r ± Φ⁻¹(0.975)·√(1/(x₁+½) − 1/(n₁+1) + 1/(x₂+½) − 1/(n₂+1))) − 1.
    const all = relativeLift({ successes: 20, trials: 20 }, { successes: 20, trials: 20 });
    expect(all.lift).toBe(0);
    expectClose(all.lower, -0.0901385574159194, 1e-10);
    expectClose(all.upper, 0.09906844404783059, 1e-10);
    const almost = relativeLift({ successes: 20, trials: 20 }, { successes: 19, trials: 20 });
    expectClose(almost.lift, 0.05263157894736836, 1e-12);
    expectClose(almost.lower, -0.08134286261305454, 1e-10);
    expectClose(almost.upper, 0.20614448623231854, 1e-10);
  });
});
