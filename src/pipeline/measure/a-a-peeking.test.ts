import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../ports/random.js';
import { mixtureSprt, twoProportionZTest, updateAlwaysValidP } from './statistics/index.js';

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
});
