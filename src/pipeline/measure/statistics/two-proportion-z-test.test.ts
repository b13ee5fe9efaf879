import { describe, expect, it } from 'vitest';
import { chiSquareTest } from './chi-square-test.js';
import { expectClose } from './expect-close.js';
import reference from './fixtures/reference.json' with { type: 'json' };
import { twoProportionZTest } from './two-proportion-z-test.js';

// The acceptance bar of issue 6 is 1e-6 relative; these tests reach ~1e-12 against statsmodels
// and scipy, so 1e-10 catches any formula slip while leaving room for rounding in the inputs.
const RELATIVE = 1e-10;

describe('twoProportionZTest', () => {
  it('matches statsmodels proportions_ztest and scipy log_ndtr', () => {
    for (const row of reference.zTests) {
      const result = twoProportionZTest(
        { successes: row.successes1, trials: row.trials1 },
        { successes: row.successes2, trials: row.trials2 },
      );
      expectClose(result.z, row.z, RELATIVE, 0, 'z');
      if (row.p > 1e-300) expectClose(result.p, row.p, RELATIVE, 0, 'p');
      expectClose(result.logP, row.logP, RELATIVE, 0, 'ln p');
    }
  });

  it('gives z² equal to the uncorrected chi-square statistic (issue 6 acceptance)', () => {
    const a = { successes: 45, trials: 500 };
    const b = { successes: 30, trials: 480 };
    const z = twoProportionZTest(a, b);
    const chi = chiSquareTest([a, b]);
    expectClose(z.z * z.z, chi.statistic, 1e-13);
    expectClose(z.p, chi.p, 1e-12);
  });

  it('finds no evidence when neither arm converts', () => {
    const result = twoProportionZTest({ successes: 0, trials: 10 }, { successes: 0, trials: 12 });
    expect(result).toMatchObject({ z: 0, p: 1, logP: 0 });
  });

  it('rejects negative counts, empty arms and more successes than trials', () => {
    const fine = { successes: 1, trials: 10 };
    expect(() => twoProportionZTest({ successes: -1, trials: 10 }, fine)).toThrow(RangeError);
    expect(() => twoProportionZTest(fine, { successes: 0, trials: 0 })).toThrow(RangeError);
    expect(() => twoProportionZTest({ successes: 11, trials: 10 }, fine)).toThrow(RangeError);
  });
});
