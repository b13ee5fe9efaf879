import { describe, expect, it } from 'vitest';
import { expectClose } from './expect-close.js';
import { mixtureSprtMeans } from './mixture-sprt-means.js';

describe('mixtureSprtMeans', () => {
  it('matches the mixture likelihood ratio computed with mpmath at 50 digits', () => {
    const cases: [number, number, number, number, number, number, number, number][] = [
      [400, 12.5, 900, 380, 10, 640, 4, 0.04971355633565516],
      [20_000, 3.1, 250, 20_000, 2.6, 240, 0.25, 3.438528338434],
      [1_000_000, 5, 100, 1_000_000, 4, 100, 1, 2495.2414033942946],
    ];
    for (const [n1, mean1, variance1, n2, mean2, variance2, tau2, logLambda] of cases) {
      const result = mixtureSprtMeans(
        { n: n1, mean: mean1, variance: variance1 },
        { n: n2, mean: mean2, variance: variance2 },
        { mixingVariance: tau2 },
      );
      expectClose(result.logLikelihoodRatio, logLambda, 1e-10, 0, 'ln Λ');
      expectClose(result.logP, -logLambda, 1e-10, 0, 'ln p');
    }
  });

  it('gives p = 1 without variance or difference, and refuses τ² ≤ 0', () => {
    const flat = { n: 10, mean: 3, variance: 0 };
    expect(mixtureSprtMeans(flat, flat, { mixingVariance: 1 })).toMatchObject({ p: 1, logP: 0 });
    const noisy = { n: 10, mean: 3, variance: 4 };
    expect(mixtureSprtMeans(noisy, noisy, { mixingVariance: 1 }).p).toBe(1);
    expect(() => mixtureSprtMeans(noisy, noisy, { mixingVariance: 0 })).toThrow(RangeError);
  });
});
