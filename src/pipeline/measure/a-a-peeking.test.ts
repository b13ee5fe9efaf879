import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../ports/random.js';
import { revenueSummary, type ArmSums } from './analyze-units.js';
import { compareBinary, compareNumeric, MIN_EXPECTED_EVENTS } from './compare-metric.js';
import {
  mixtureSprt,
  mixtureSprtMeans,
  twoProportionZTest,
  updateAlwaysValidP,
} from './statistics/index.js';

// Issue 6's acceptance: an A/A test looked at every hour, replicated 1,000 times. The statistics
// suite already peeks 20 times (mixture-sprt.test.ts); this one peeks hourly for a week.
describe('an A/A test peeked at every hour for a week', () => {
  it('keeps the always-valid false-positive rate ≤ 5 % while naive hourly z-tests exceed it', () => {
    const random = seededRandom(2026);
    const replications = 1000;
    const hours = 7 * 24;
    const perArmPerHour = 40;
    const rate = 0.05;
    const alpha = 0.05;
    const conversions = (n: number) => {
      let successes = 0;
      for (let i = 0; i < n; i++) if (random.next() < rate) successes++;
      return successes;
    };
    let sequentialPositives = 0;
    let naivePositives = 0;
    for (let r = 0; r < replications; r++) {
      let x1 = 0;
      let x2 = 0;
      let running = { p: 1, logP: 0 };
      let naive = false;
      for (let hour = 1; hour <= hours; hour++) {
        x1 += conversions(perArmPerHour);
        x2 += conversions(perArmPerHour);
        const trials = perArmPerHour * hour;
        const treatment = { successes: x1, trials };
        const control = { successes: x2, trials };
        running = updateAlwaysValidP(running, mixtureSprt(treatment, control));
        if (!naive && twoProportionZTest(treatment, control).p < alpha) naive = true;
      }
      if (running.p < alpha) sequentialPositives++;
      if (naive) naivePositives++;
    }
    const sequentialRate = sequentialPositives / replications;
    const naiveRate = naivePositives / replications;
    console.log(
      `A/A, ${hours} hourly peeks × ${replications}: always-valid (mSPRT) false positives ${sequentialRate}, naive z-test ${naiveRate}`,
    );
    expect(sequentialRate).toBeLessThanOrEqual(alpha);
    expect(naiveRate).toBeGreaterThan(alpha);
  });

  it('keeps it for a 1 % holdout of rare conversions, where the bare mixture SPRT does not', () => {
    const random = seededRandom(42);
    /** A binomial draw by inversion (n·p is small here). */
    const binomial = (n: number, p: number) => {
      const u = random.next();
      let k = 0;
      let probability = (1 - p) ** n;
      let cdf = probability;
      while (u > cdf && k < n) {
        probability *= ((n - k) / (k + 1)) * (p / (1 - p));
        k += 1;
        cdf += probability;
      }
      return k;
    };
    const replications = 1000;
    let gated = 0;
    let bare = 0;
    for (let r = 0; r < replications; r++) {
      const held = { successes: 0, trials: 0 };
      const treated = { successes: 0, trials: 0 };
      let gatedHit = false;
      let bareHit = false;
      for (let hour = 0; hour < 7 * 24 && !gatedHit; hour++) {
        const n = binomial(2000, 0.01);
        held.trials += n;
        treated.trials += 2000 - n;
        held.successes += binomial(n, 0.001);
        treated.successes += binomial(2000 - n, 0.001);
        if (held.trials === 0 || held.successes + treated.successes === 0) continue;
        // The gate only ever raises p: the full comparison is worked out where the bare one fires.
        if (mixtureSprt(treated, held).p >= 0.05) continue;
        bareHit = true;
        const look = compareBinary(
          [
            { arm: 'holdout', data: held },
            { arm: 'treatment', data: treated },
          ],
          held,
          { alpha: 0.05 },
        ).comparisons[0];
        if ((look?.alwaysValidP ?? 1) < 0.05) gatedHit = true;
      }
      if (gatedHit) gated++;
      if (bareHit) bare++;
    }
    console.log(
      `A/A, 1 % holdout at 0.1 %, 168 hourly peeks × ${replications}: false positives ${gated / replications} (bare mixture SPRT ${bare / replications})`,
    );
    expect(gated / replications).toBeLessThanOrEqual(0.05);
    expect(bare / replications).toBeGreaterThan(0.05);
  });

  it('keeps it for revenue against a 10 % holdout, where counting from 5 buyers does not', () => {
    // Revenue per unit: 3 % buy, order values log-normal with σ = 1.5 (a long tail of big
    // orders); a look after every 1,000 units, 40 looks.
    const random = seededRandom(7);
    const normal = () =>
      Math.sqrt(-2 * Math.log(1 - random.next())) * Math.cos(2 * Math.PI * random.next());
    const replications = 300;
    let gated = 0;
    let fromFive = 0;
    for (let r = 0; r < replications; r++) {
      const arms: [ArmSums, ArmSums] = [
        { arm: 'treatment', units: 0, converted: 0, revenueCents: 0, revenueSquares: 0 },
        { arm: 'holdout', units: 0, converted: 0, revenueCents: 0, revenueSquares: 0 },
      ];
      let gatedHit = false;
      let fromFiveHit = false;
      for (let look = 0; look < 40 && !(gatedHit && fromFiveHit); look++) {
        for (let i = 0; i < 1000; i++) {
          const arm = arms[random.next() < 0.1 ? 1 : 0];
          arm.units += 1;
          if (random.next() < 0.03) {
            const cents = Math.round(Math.exp(3 + 1.5 * normal()) * 100);
            arm.converted += 1;
            arm.revenueCents += cents;
            arm.revenueSquares += cents * cents;
          }
        }
        const [t, h] = arms.map((a) => ({ ...revenueSummary(a), nonZero: a.converted }));
        if (t === undefined || h === undefined || (t.variance === 0 && h.variance === 0)) continue;
        // The rule for rates, 5 buyers expected in each arm, on the same mixture.
        const expected = (Math.min(t.n, h.n) * (t.nonZero + h.nonZero)) / (t.n + h.n);
        const spread = Math.sqrt(h.variance) || Math.sqrt(t.variance);
        if (mixtureSprtMeans(t, h, { mixingVariance: (0.1 * spread) ** 2 }).p >= 0.05) continue;
        if (expected >= MIN_EXPECTED_EVENTS) fromFiveHit = true;
        // The gate only ever raises p: the full comparison is worked out where the bare one fires.
        const [comparison] = compareNumeric(
          [
            { arm: 'holdout', data: h },
            { arm: 'treatment', data: t },
          ],
          h,
          { alpha: 0.05 },
        ).comparisons;
        if ((comparison?.alwaysValidP ?? 1) < 0.05) gatedHit = true;
      }
      if (gatedHit) gated++;
      if (fromFiveHit) fromFive++;
    }
    console.log(
      `A/A revenue, 10 % holdout, log-normal σ 1.5, 40 looks × ${replications}: false positives ${gated / replications} (from 5 expected buyers ${fromFive / replications})`,
    );
    expect(gated / replications).toBeLessThanOrEqual(0.05);
    expect(fromFive / replications).toBeGreaterThan(0.1);
  });

  it('still takes an arm that never converts, against one that does, for evidence', () => {
    // The three-phase policy hands all traffic to control once a broken variant loses for sure.
    const [broken] = compareBinary(
      [
        { arm: 'control', data: { successes: 100, trials: 2000 } },
        { arm: 'broken', data: { successes: 0, trials: 2000 } },
      ],
      { successes: 100, trials: 2000 },
      { alpha: 0.05 },
    ).comparisons;
    expect(broken?.alwaysValidP).toBeLessThan(1e-6);
  });
});
