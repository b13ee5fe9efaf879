import { describe, expect, it } from 'vitest';
import { betaBinomialComparison } from './beta-binomial-comparison.js';
import { expectClose } from './expect-close.js';
import reference from './fixtures/reference.json' with { type: 'json' };

// Issue 6 asks for 1e-8. The quadrature reaches ~1e-13 absolute against 50-digit mpmath (Evan
// Miller's sum) for up to 10⁴ trials per arm and ~4e-11 at 10⁶, where ln Γ near 1e5 limits the
// incomplete beta; 1e-10 absolute (losses and chances are rates in [0, 1]) catches formula slips.
const ABSOLUTE = 1e-10;

describe('betaBinomialComparison', () => {
  it('matches 50-digit mpmath (Evan Miller sum / quadrature) and scipy.integrate.quad', () => {
    for (const row of reference.betaComparisons) {
      const result = betaBinomialComparison(
        { successes: row.successes1, trials: row.trials1 },
        { successes: row.successes2, trials: row.trials2 },
        { alpha: row.priorAlpha, beta: row.priorBeta },
      );
      const label = `${row.successes1}/${row.trials1} vs ${row.successes2}/${row.trials2}`;
      expectClose(result.chanceToBeatControl, row.chanceToBeatControl, 0, ABSOLUTE, label);
      expectClose(result.expectedLossTreatment, row.expectedLossTreatment, 0, ABSOLUTE, label);
      expectClose(result.expectedLossControl, row.expectedLossControl, 0, ABSOLUTE, label);
    }
  });

  it('satisfies lossControl − lossTreatment = μ_T − μ_C and swaps symmetrically', () => {
    const a = { successes: 45, trials: 500 };
    const b = { successes: 30, trials: 480 };
    const ab = betaBinomialComparison(a, b);
    const ba = betaBinomialComparison(b, a);
    expectClose(ab.expectedLossControl - ab.expectedLossTreatment, 46 / 502 - 31 / 482, 0, 1e-12);
    expectClose(ab.chanceToBeatControl + ba.chanceToBeatControl, 1, 0, 1e-12);
    expectClose(ab.expectedLossTreatment, ba.expectedLossControl, 0, 1e-13);
  });

  it('keeps the loss identity at a million exposures per arm', () => {
    const result = betaBinomialComparison(
      { successes: 100_500, trials: 1_000_000 },
      { successes: 100_000, trials: 1_000_000 },
    );
    const meanDifference = 100_501 / 1_000_002 - 100_001 / 1_000_002;
    const lossDifference = result.expectedLossControl - result.expectedLossTreatment;
    expectClose(lossDifference, meanDifference, 0, 1e-10);
  });

  it('gives 1/2 and equal losses for identical arms', () => {
    const arm = { successes: 7, trials: 30 };
    const result = betaBinomialComparison(arm, arm, { alpha: 0.5, beta: 0.5 });
    expectClose(result.chanceToBeatControl, 0.5, 0, 1e-13);
    expectClose(result.expectedLossTreatment, result.expectedLossControl, 0, 1e-13);
  });

  it('rejects invalid counts and non-positive priors', () => {
    const fine = { successes: 1, trials: 10 };
    expect(() => betaBinomialComparison({ successes: 11, trials: 10 }, fine)).toThrow(RangeError);
    expect(() => betaBinomialComparison(fine, { successes: 0, trials: 0 })).toThrow(RangeError);
    expect(() => betaBinomialComparison(fine, fine, { alpha: 0, beta: 1 })).toThrow(RangeError);
    expect(() => betaBinomialComparison(fine, fine, { alpha: 1, beta: NaN })).toThrow(RangeError);
  });
});
