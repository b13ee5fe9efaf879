import { describe, expect, it } from 'vitest';
import { expectClose } from './expect-close.js';
import reference from './fixtures/reference.json' with { type: 'json' };
import { welchTTest } from './welch-t-test.js';

// See two-proportion-z-test.test.ts for the choice of 1e-10.
const RELATIVE = 1e-10;

describe('welchTTest', () => {
  it('matches scipy ttest_ind_from_stats (equal_var=False) and mpmath for ln p', () => {
    for (const row of reference.welchTests) {
      const result = welchTTest(
        { n: row.n1, mean: row.mean1, variance: row.variance1 },
        { n: row.n2, mean: row.mean2, variance: row.variance2 },
      );
      expectClose(result.t, row.t, RELATIVE, 0, 't');
      expectClose(result.df, row.df, RELATIVE, 0, 'df');
      expectClose(result.p, row.p, RELATIVE, 0, 'p');
      expectClose(result.logP, row.logP, RELATIVE, 0, 'ln p');
    }
  });

  it('reports no difference for identical constant arms and certainty for different ones', () => {
    const flat = { n: 5, mean: 2, variance: 0 };
    expect(welchTTest(flat, flat)).toMatchObject({ t: 0, p: 1 });
    expect(welchTTest({ ...flat, mean: 3 }, flat)).toMatchObject({ t: Infinity, p: 0 });
  });

  it('rejects n < 2 and negative variances', () => {
    const fine = { n: 5, mean: 1, variance: 1 };
    expect(() => welchTTest({ ...fine, n: 1 }, fine)).toThrow(RangeError);
    expect(() => welchTTest(fine, { ...fine, variance: -1 })).toThrow(RangeError);
  });
});
