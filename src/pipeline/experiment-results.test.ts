import { describe, expect, it } from 'vitest';
import { seededRandom } from '../ports/random.js';
import { allocateThompson } from './experiment/index.js';
import { analyzeUnits, mixtureSprt, type ArmSums } from './measure/index.js';

// An adaptive journey step as `reallocateBandits` runs it: Thompson sampling sets each day's
// weights (every arm keeps 5 %) from the units whose 7-day window has closed, and the test
// compares those units every day — in an A/A test whose conversion rate rises from 4 % to 6 %
// over 60 days. Pooled, the arm Thompson happened to favour later gets the better days' rate;
// within assignment days, as `experimentResults` compares an adaptive step, it does not.
describe('an adaptive A/A test under a drifting baseline', () => {
  it('promotes a false winner pooled, and at most 5 % of the time within days', () => {
    const random = seededRandom(60);
    const replications = 100;
    const days = 60;
    const perDay = 2000;
    const window = 7;
    const rate = (day: number) => 0.04 + (0.02 * day) / days;
    const arms = ['A', 'B'] as const;
    let pooledPromotions = 0;
    let stratifiedPromotions = 0;
    for (let r = 0; r < replications; r++) {
      const history: ArmSums[][] = [];
      const weightsByDay: number[] = [];
      let weightB = 0.5;
      let pooledPromoted = false;
      let stratifiedPromoted = false;
      for (let day = 0; day < days; day++) {
        const sums = arms.map((arm): ArmSums => ({
          arm,
          units: 0,
          converted: 0,
          revenueCents: 0,
          revenueSquares: 0,
        }));
        for (let i = 0; i < perDay; i++) {
          const unit = sums[random.next() < weightB ? 1 : 0];
          if (unit === undefined) continue;
          unit.units += 1;
          if (random.next() < rate(day)) unit.converted += 1;
        }
        history.push(sums);
        weightsByDay.push(weightB);
        // The units whose window has closed, per day and pooled.
        const tested = history.slice(0, Math.max(0, day + 1 - window));
        const pooled = arms.map((arm, k): ArmSums => ({
          arm,
          units: tested.reduce((n, d) => n + (d[k]?.units ?? 0), 0),
          converted: tested.reduce((n, d) => n + (d[k]?.converted ?? 0), 0),
          revenueCents: 0,
          revenueSquares: 0,
        }));
        const [a, b] = pooled;
        if (a === undefined || b === undefined) continue;
        if (a.units > 0 && b.units > 0 && !(pooledPromoted && stratifiedPromoted)) {
          // What the sample-ratio check expects: each day's units split by that day's weights.
          const expectedB = tested.reduce(
            (n, d, i) => n + ((d[0]?.units ?? 0) + (d[1]?.units ?? 0)) * (weightsByDay[i] ?? 0),
            0,
          );
          const weights = { A: a.units + b.units - expectedB, B: expectedB };
          const promoted = (strata?: ArmSums[][]) => {
            const analysis = analyzeUnits(
              'A',
              pooled,
              weights,
              strata === undefined ? {} : { strata },
            );
            return analysis.ok && analysis.analysis.promotion.allowed;
          };
          // The pooled analysis is worked out only where its bare mixture SPRT fires for B (the
          // analysis only ever raises p): its Beta-Binomial quadrature is slow at these sizes.
          const bare = mixtureSprt(
            { successes: b.converted, trials: b.units },
            { successes: a.converted, trials: a.units },
          );
          if (!pooledPromoted && bare.p < 0.05 && bare.difference > 0) pooledPromoted = promoted();
          if (!stratifiedPromoted) stratifiedPromoted = promoted(tested);
        }
        weightB =
          allocateThompson(
            pooled.map((s) => ({ name: s.arm, successes: s.converted, trials: s.units })),
            seededRandom(r * 1000 + day),
            // 200 draws rather than the step's 1,000: weights as noisy as Thompson's own within
            // a few points, five times as fast.
            { minShare: 0.05, draws: 200 },
          ).arms[1]?.weight ?? 0.5;
      }
      if (pooledPromoted) pooledPromotions++;
      if (stratifiedPromoted) stratifiedPromotions++;
    }
    console.log(
      `A/A Thompson step, ${days} days × ${perDay}, conversion 4 % → 6 %, × ${replications}: false promotions ${stratifiedPromotions / replications} within days (pooled ${pooledPromotions / replications})`,
    );
    expect(stratifiedPromotions / replications).toBeLessThanOrEqual(0.05);
    expect(pooledPromotions / replications).toBeGreaterThan(0.05);
  });
});
