import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../ports/random.js';
import { allocateThompson, type ArmOutcome } from './thompson-sampling.js';

const sum = (values: readonly number[]) => values.reduce((total, v) => total + v, 0);
const weightOf = (allocation: { arms: { name: string; weight: number }[] }, name: string) =>
  allocation.arms.find((arm) => arm.name === name)?.weight ?? Number.NaN;

const tenArms: ArmOutcome[] = Array.from({ length: 10 }, (_, i) => ({
  name: `arm-${i}`,
  successes: i === 7 ? 400 : 200,
  trials: 2000,
}));

describe('allocateThompson', () => {
  it('estimates the chance to be best: Beta(3, 1) beats Beta(1, 1) with probability ¾', () => {
    // Pr(X > Y) for X ~ Beta(a, 1), Y uniform is E[X] = a/(a + 1).
    const allocation = allocateThompson(
      [
        { name: 'a', successes: 2, trials: 2 },
        { name: 'b', successes: 0, trials: 0 },
      ],
      seededRandom(11),
      { draws: 20_000, minTrialsPerArm: 0 },
    );
    expect(allocation.mode).toBe('thompson');
    expect(Math.abs(weightOf(allocation, 'a') - 0.75)).toBeLessThan(0.015);
    expect(allocation.arms[0]?.chanceToBeBest).toBe(weightOf(allocation, 'a'));
  });

  it('gives the same weights for the same seed', () => {
    const first = allocateThompson(tenArms, seededRandom(42), { draws: 500 });
    expect(allocateThompson(tenArms, seededRandom(42), { draws: 500 })).toEqual(first);
  });

  it('sends nearly all traffic to a clear winner but keeps the minimum share elsewhere', () => {
    const allocation = allocateThompson(tenArms, seededRandom(1), { minShare: 0.02 });
    expect(weightOf(allocation, 'arm-7')).toBeCloseTo(1 - 9 * 0.02, 10);
    for (const arm of allocation.arms.filter((a) => a.name !== 'arm-7')) {
      expect(arm.weight).toBeCloseTo(0.02, 10);
    }
    expect(sum(allocation.arms.map((a) => a.weight))).toBeCloseTo(1, 12);
  });

  it('keeps an equal split until every arm has the minimum number of trials', () => {
    const arms = [...tenArms.slice(0, 9), { name: 'new', successes: 0, trials: 99 }];
    const allocation = allocateThompson(arms, seededRandom(1), { minTrialsPerArm: 100 });
    expect(allocation.mode).toBe('warm-up');
    for (const arm of allocation.arms) expect(arm.weight).toBe(0.1);
  });

  it('splits between leader and challenger with top-two sampling', () => {
    const clear = [
      { name: 'best', successes: 500, trials: 2000 },
      { name: 'second', successes: 300, trials: 2000 },
      { name: 'worst', successes: 50, trials: 2000 },
    ];
    const plain = allocateThompson(clear, seededRandom(2));
    expect(weightOf(plain, 'best')).toBe(1);
    // Every draw ranks best > second > worst, so the challenger is always "second".
    const topTwo = allocateThompson(clear, seededRandom(2), { topTwoBeta: 0.5 });
    expect(topTwo.mode).toBe('top-two');
    expect(topTwo.arms.map((a) => a.weight)).toEqual([0.5, 0.5, 0]);
  });

  it('gives top-two weights that sum to 1 and follow β·π + (1 − β)·challenger odds', () => {
    const arms = [
      { name: 'a', successes: 110, trials: 1000 },
      { name: 'b', successes: 100, trials: 1000 },
      { name: 'c', successes: 95, trials: 1000 },
    ];
    const plain = allocateThompson(arms, seededRandom(8), { draws: 4000 });
    const topTwo = allocateThompson(arms, seededRandom(8), { draws: 4000, topTwoBeta: 0.3 });
    const pi = plain.arms.map((a) => a.weight);
    const expected = pi.map(
      (p, i) =>
        0.3 * p + 0.7 * sum(pi.map((leader, j) => (j === i ? 0 : (leader * p) / (1 - leader)))),
    );
    topTwo.arms.forEach((arm, i) => {
      expect(arm.weight).toBeCloseTo(expected[i] ?? 0, 12);
    });
    expect(sum(topTwo.arms.map((a) => a.weight))).toBeCloseTo(1, 12);
    // The leader gets less than under plain Thompson sampling; the challengers more.
    expect(weightOf(topTwo, 'a')).toBeLessThan(weightOf(plain, 'a'));
  });

  it('refuses invalid outcomes and options', () => {
    const random = seededRandom(1);
    expect(() => allocateThompson([], random)).toThrow(/at least one arm/);
    expect(() => allocateThompson([{ name: 'a', successes: 3, trials: 2 }], random)).toThrow(
      /successes/,
    );
    expect(() => allocateThompson(tenArms, random, { minShare: 0.2 })).toThrow(/minShare/);
    expect(() => allocateThompson(tenArms, random, { topTwoBeta: 1 })).toThrow(/topTwoBeta/);
    expect(() => allocateThompson(tenArms, random, { draws: 0 })).toThrow(/draws/);
  });
});
