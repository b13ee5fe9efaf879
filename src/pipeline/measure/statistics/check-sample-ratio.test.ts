import { describe, expect, it } from 'vitest';
import { checkSampleRatio } from './check-sample-ratio.js';
import { expectClose } from './expect-close.js';
import reference from './fixtures/reference.json' with { type: 'json' };

describe('checkSampleRatio', () => {
  it('matches scipy.stats.chisquare against the designed weights, and mpmath for ln p', () => {
    for (const row of reference.sampleRatio) {
      const check = checkSampleRatio(row.observed, row.weights);
      expect(check.df).toBe(row.df);
      expectClose(check.statistic, row.statistic, 1e-12, 0, 'X²');
      if (row.p > 1e-300) expectClose(check.p, row.p, 1e-11, 0, 'p');
      expectClose(check.logP, row.logP, 1e-12, 1e-15, 'ln p');
    }
  });

  it('blocks a 52/48 split of 20,000 designed as 50/50 (issue 6 acceptance)', () => {
    const check = checkSampleRatio([10_400, 9_600], [50, 50]);
    expect(check.p).toBeLessThan(1e-7); // X² = 32 on 1 df, p ≈ 1.5e-8
    expect(check.alarm).toBe(true);
  });

  it('stays quiet for a split that matches unequal designed weights', () => {
    expect(checkSampleRatio([980, 2050, 2970], [1, 2, 3]).alarm).toBe(false);
    expect(checkSampleRatio([980, 2050, 2970], [1, 1, 1]).alarm).toBe(true);
  });

  it('takes the threshold as a parameter', () => {
    const counts = [5_000, 5_200];
    expect(checkSampleRatio(counts, [1, 1]).alarm).toBe(false);
    expect(checkSampleRatio(counts, [1, 1], { threshold: 0.05 }).alarm).toBe(true);
  });

  it('alarms when an arm designed at weight 0 received traffic', () => {
    expect(checkSampleRatio([10, 10, 1], [1, 1, 0])).toMatchObject({ p: 0, alarm: true });
    expect(checkSampleRatio([10, 10, 0], [1, 1, 0])).toMatchObject({ df: 1, p: 1, alarm: false });
  });

  it('rejects mismatched lengths, negative counts, empty data and weights that sum to 0', () => {
    expect(() => checkSampleRatio([1, 2], [1])).toThrow(RangeError);
    expect(() => checkSampleRatio([-1, 2], [1, 1])).toThrow(RangeError);
    expect(() => checkSampleRatio([0, 0], [1, 1])).toThrow(RangeError);
    expect(() => checkSampleRatio([3, 2], [0, 0])).toThrow(RangeError);
  });
});
