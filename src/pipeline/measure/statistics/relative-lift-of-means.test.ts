import { describe, expect, it } from 'vitest';
import { expectClose } from './expect-close.js';
import { relativeLift } from './relative-lift.js';
import { relativeLiftOfMeans } from './relative-lift-of-means.js';

describe('relativeLiftOfMeans', () => {
  it('matches the log-scale delta method with a Welch t quantile computed with scipy for positive means', () => {
    const lift = relativeLiftOfMeans(
      { n: 400, mean: 12.5, variance: 900 },
      { n: 380, mean: 10, variance: 640 },
    );
    expect(lift.scale).toBe('log');
    expectClose(lift.lift, 0.25, 1e-12);
    // scipy.stats.t.ppf(0.975, df) with df = (A + B)² / (A²/399 + B²/379), A = 900/400/12.5²,
    // B = 640/380/10²: 769.69.
    expectClose(lift.lower, -0.11647373277999447, 1e-10);
    expectClose(lift.upper, 0.7684816603318081, 1e-10);
    expectClose(lift.standardError, 0.17675436419833568, 1e-12);
    expectClose(lift.degreesOfFreedom, 769.6896951480418, 1e-10);
  });

  it('falls back to the linear delta method when a mean is not positive', () => {
    const lift = relativeLiftOfMeans(
      { n: 400, mean: -2, variance: 900 },
      { n: 380, mean: 10, variance: 640 },
    );
    expect(lift.scale).toBe('linear');
    expectClose(lift.lift, -1.2, 1e-12);
    expectClose(lift.lower, -1.499219897912158, 1e-10);
    expectClose(lift.upper, -0.9007801020878419, 1e-10);
  });

  it('measures a change against a negative control mean by its size, with the sign of the difference', () => {
    // Net margin of −10 in control and −5 in treatment: a gain of 5, half the size of control's
    // loss. x̄₁/x̄₂ − 1 would say −50 %. scipy: (x̄₁ − x̄₂)/|x̄₂| ± t.ppf(0.975, df)·SE with
    // SE = √(s₁²/(n₁x̄₂²) + x̄₁²s₂²/(n₂x̄₂⁴)) and its Welch–Satterthwaite df.
    const better = relativeLiftOfMeans(
      { n: 1000, mean: -5, variance: 25 },
      { n: 1000, mean: -10, variance: 25 },
    );
    expect(better.scale).toBe('linear');
    expectClose(better.lift, 0.5, 1e-12);
    expectClose(better.lower, 0.46532383607981764, 1e-10);
    expectClose(better.upper, 0.5346761639201824, 1e-10);
    expectClose(better.standardError, 0.017677669529663688, 1e-12);
    expectClose(better.degreesOfFreedom, 1469.1176470588236, 1e-10);
    // From a loss of 10 to a gain of 5: +150 %.
    const positive = relativeLiftOfMeans(
      { n: 1000, mean: 5, variance: 25 },
      { n: 1000, mean: -10, variance: 25 },
    );
    expectClose(positive.lift, 1.5, 1e-12);
    expectClose(positive.lower, 1.4653238360798178, 1e-10);
    // A larger loss is a negative lift: −12 against −10 is −20 %.
    const worse = relativeLiftOfMeans(
      { n: 50, mean: -12, variance: 100 },
      { n: 40, mean: -10, variance: 64 },
    );
    expectClose(worse.lift, -0.2, 1e-12);
    expectClose(worse.lower, -0.6124825812861907, 1e-9);
    expectClose(worse.upper, 0.21248258128619069, 1e-9);
    // A treatment arm of zeros alone against a loss: +100 %, and no interval.
    expect(
      relativeLiftOfMeans({ n: 200, mean: 0, variance: 0 }, { n: 200, mean: -2, variance: 25 }),
    ).toMatchObject({ lift: 1, lower: -Infinity, upper: Infinity });
  });

  it('gives no interval, not the certainty of −100 %, for a treatment mean of 0', () => {
    // No buyer in 200 treated units against 2 of 200 in control.
    const lift = relativeLiftOfMeans(
      { n: 200, mean: 0, variance: 0 },
      { n: 200, mean: 0.5, variance: 24.87 },
    );
    expect(lift).toMatchObject({ lift: -1, lower: -Infinity, upper: Infinity });
    // A mean of 0 from values that vary (a signed metric) keeps its interval.
    const signed = relativeLiftOfMeans(
      { n: 200, mean: 0, variance: 25 },
      { n: 200, mean: 2, variance: 25 },
    );
    expect(Number.isFinite(signed.lower) && Number.isFinite(signed.upper)).toBe(true);
    expect(signed.lower).toBeLessThan(-1);
  });

  it('agrees with the proportion version on 0/1 data, up to the n − 1 in the variance', () => {
    const mean1 = 150 / 1000;
    const mean2 = 120 / 1000;
    const asMeans = relativeLiftOfMeans(
      { n: 1000, mean: mean1, variance: (mean1 * (1 - mean1) * 1000) / 999 },
      { n: 1000, mean: mean2, variance: (mean2 * (1 - mean2) * 1000) / 999 },
    );
    const asRates = relativeLift(
      { successes: 150, trials: 1000 },
      { successes: 120, trials: 1000 },
    );
    expectClose(asMeans.lift, asRates.lift, 1e-12);
    expectClose(asMeans.lower, asRates.lower, 0, 5e-4);
    expectClose(asMeans.upper, asRates.upper, 0, 5e-4);
  });

  it('does not exclude 0 on three customers an arm where the Welch test does not either', () => {
    // Means 10 and 6, standard deviations 2, n = 3: Welch p ≈ 0.07. A normal quantile gave
    // [+7.4 %, +159 %]; scipy's t quantile at df 3.27 gives the interval below.
    const lift = relativeLiftOfMeans(
      { n: 3, mean: 10, variance: 4 },
      { n: 3, mean: 6, variance: 4 },
    );
    expectClose(lift.degreesOfFreedom, 3.2747875354107654, 1e-10);
    expectClose(lift.lower, -0.15691300252760568, 1e-9);
    expectClose(lift.upper, 2.2947700369068165, 1e-9);
  });

  it('has no ratio when the control mean is 0', () => {
    expect(
      relativeLiftOfMeans({ n: 5, mean: 1, variance: 1 }, { n: 5, mean: 0, variance: 0 }),
    ).toMatchObject({ lift: Infinity, lower: -Infinity, upper: Infinity });
    expect(() =>
      relativeLiftOfMeans({ n: 0, mean: 1, variance: 1 }, { n: 5, mean: 1, variance: 0 }),
    ).toThrow(RangeError);
  });
});
