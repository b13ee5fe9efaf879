import { describe, expect, it } from 'vitest';
import { chiSquareTest } from './chi-square-test.js';
import { expectClose } from './expect-close.js';
import reference from './fixtures/reference.json' with { type: 'json' };

// See two-proportion-z-test.test.ts for the choice of 1e-10.
const RELATIVE = 1e-10;

describe('chiSquareTest', () => {
  it('matches scipy chi2_contingency with and without Yates, and mpmath for ln p', () => {
    for (const row of reference.chiSquareTests) {
      const [top = [], bottom = []] = row.table;
      const arms = top.map((successes, j) => ({ successes, trials: successes + (bottom[j] ?? 0) }));
      for (const [yates, expected] of [
        [false, row.uncorrected],
        [true, row.corrected],
      ] as const) {
        const result = chiSquareTest(arms, { yates });
        const label = `${JSON.stringify(row.table)} yates=${yates}`;
        expect(result.df).toBe(expected.df);
        expectClose(result.statistic, expected.statistic, RELATIVE, 1e-14, `${label} X²`);
        if (expected.p > 1e-300) expectClose(result.p, expected.p, RELATIVE, 0, `${label} p`);
        expectClose(result.logP, expected.logP, RELATIVE, 1e-14, `${label} ln p`);
      }
    }
  });

  it('applies Yates only to two arms', () => {
    const arms = [
      { successes: 12, trials: 100 },
      { successes: 5, trials: 100 },
      { successes: 9, trials: 100 },
    ];
    expect(chiSquareTest(arms, { yates: true })).toEqual(chiSquareTest(arms));
    expect(chiSquareTest(arms.slice(0, 2), { yates: true }).corrected).toBe(true);
  });

  it('needs at least two arms', () => {
    expect(() => chiSquareTest([{ successes: 1, trials: 2 }])).toThrow(RangeError);
  });
});
