import { describe, expect, it } from 'vitest';
import { checkSampleRatio } from './check-sample-ratio.js';
import { chiSquareTest } from './chi-square-test.js';
import { expectClose } from './expect-close.js';
import reference from './fixtures/reference.json' with { type: 'json' };
import { newcombeInterval } from './newcombe-interval.js';
import { twoProportionZTest } from './two-proportion-z-test.js';
import { welchTTest } from './welch-t-test.js';

// Kevin Hillstrom's 2008 e-mail experiment (../shared/data/hillstrom): per-arm counts and spend
// summaries were computed from the CSV by scripts/reference/statistics_reference.py, together with
// statsmodels' z-test, Newcombe interval and Welch test on the raw rows and scipy's chi-square.
const { arms, order, comparisons } = reference.hillstrom;
type ArmName = keyof typeof arms;
const isArmName = (name: string): name is ArmName => name in arms;
const arm = (name: string) => {
  if (!isArmName(name)) throw new Error(`unknown arm ${name}`);
  return arms[name];
};
const conversions = (name: string) => ({ successes: arm(name).conversions, trials: arm(name).n });
const spend = (name: string) => ({
  n: arm(name).n,
  mean: arm(name).spendMean,
  variance: arm(name).spendVariance,
});

describe('Hillstrom e-mail experiment', () => {
  it('has the published arm sizes', () => {
    expect(order.map((name) => arm(name).n)).toEqual([21_307, 21_387, 21_306]);
  });

  it('reproduces the conversion z-tests and Newcombe intervals of each e-mail against no e-mail', () => {
    for (const row of comparisons) {
      const test = twoProportionZTest(conversions(row.treatment), conversions(row.control));
      expectClose(test.z, row.conversionZ, 1e-10, 0, `${row.treatment} z`);
      expectClose(test.p, row.conversionP, 1e-9, 0, `${row.treatment} p`);
      const interval = newcombeInterval(conversions(row.treatment), conversions(row.control));
      const [lower = Number.NaN, upper = Number.NaN] = row.conversionNewcombe;
      expectClose(interval.lower, lower, 1e-10, 0, `${row.treatment} lower`);
      expectClose(interval.upper, upper, 1e-10, 0, `${row.treatment} upper`);
    }
  });

  it('reproduces the Welch test on spend computed from the raw rows', () => {
    // The fixture's t and ν come from statsmodels on 42,613 raw values, Herald's from the stored
    // mean and variance; summing in a different order costs ~1e-13.
    for (const row of comparisons) {
      const test = welchTTest(spend(row.treatment), spend(row.control));
      expectClose(test.t, row.spendT, 1e-10, 0, `${row.treatment} t`);
      expectClose(test.df, row.spendDf, 1e-10, 0, `${row.treatment} df`);
      expectClose(test.p, row.spendP, 1e-9, 0, `${row.treatment} p`);
    }
  });

  it('reproduces the 2×3 chi-square of conversion across the three arms', () => {
    const test = chiSquareTest(order.map(conversions));
    const expected = reference.hillstrom.conversionChiSquare;
    expect(test.df).toBe(expected.df);
    expectClose(test.statistic, expected.statistic, 1e-10, 0, 'X²');
    expectClose(test.p, expected.p, 1e-9, 0, 'p');
  });

  it('does not raise a sample-ratio alarm against the designed equal split', () => {
    const check = checkSampleRatio(
      order.map((name) => arm(name).n),
      [1, 1, 1],
    );
    expectClose(check.p, reference.hillstrom.sampleRatio.p, 1e-12, 0, 'SRM p');
    expect(check.alarm).toBe(false);
  });
});
