import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../ports/random.js';
import { allocateThreePhase, type ThreePhaseInput } from './three-phase-policy.js';

const base: ThreePhaseInput = {
  control: 'control',
  arms: [
    { name: 'control', successes: 500, trials: 5000 },
    { name: 'a', successes: 600, trials: 5000 },
    { name: 'b', successes: 560, trials: 5000 },
    { name: 'c', successes: 250, trials: 5000 },
  ],
  alwaysValidP: { a: 0.2, b: 0.4, c: 1 },
  sampleRatioAlarm: false,
};
const weights = (allocation: { arms: { name: string; weight: number }[] }) =>
  Object.fromEntries(allocation.arms.map((arm) => [arm.name, arm.weight]));

describe('allocateThreePhase', () => {
  it('splits equally while an arm has fewer than the minimum trials', () => {
    const arms = base.arms.map((arm) => (arm.name === 'b' ? { ...arm, trials: 999 } : arm));
    const allocation = allocateThreePhase({ ...base, arms }, seededRandom(1));
    expect(allocation.phase).toBe('equal-split');
    expect(weights(allocation)).toEqual({ control: 0.25, a: 0.25, b: 0.25, c: 0.25 });
    expect(allocation.reasons[0]).toMatch(/^b below 1000 trials/);
  });

  it('gives the two leading treatments 40 % each and control 20 % until one is significant', () => {
    const allocation = allocateThreePhase(base, seededRandom(1));
    expect(allocation.phase).toBe('top-two');
    expect(weights(allocation)).toEqual({ control: 0.2, a: 0.4, b: 0.4, c: 0 });
  });

  it('gives all traffic to the leader once its always-valid p-value is significant', () => {
    const allocation = allocateThreePhase(
      { ...base, alwaysValidP: { ...base.alwaysValidP, a: 0.01 } },
      seededRandom(1),
    );
    expect(allocation).toMatchObject({ phase: 'winner', winner: 'a' });
    expect(weights(allocation)).toEqual({ control: 0, a: 1, b: 0, c: 0 });
  });

  it('does not promote while the sample-ratio check alarms', () => {
    const allocation = allocateThreePhase(
      { ...base, alwaysValidP: { a: 1e-9 }, sampleRatioAlarm: true },
      seededRandom(1),
    );
    expect(allocation.phase).toBe('top-two');
    expect(allocation.reasons.join(' ')).toMatch(/sample-ratio mismatch/);
  });

  it('keeps control as the winner when the best treatment is significantly worse', () => {
    const arms = [
      { name: 'control', successes: 800, trials: 5000 },
      { name: 'a', successes: 500, trials: 5000 },
      { name: 'b', successes: 400, trials: 5000 },
    ];
    const allocation = allocateThreePhase(
      { control: 'control', arms, alwaysValidP: { a: 1e-6 }, sampleRatioAlarm: false },
      seededRandom(1),
    );
    expect(allocation).toMatchObject({ phase: 'winner', winner: 'control' });
  });

  it("takes the better of leader and control from the measure stage's lift when given", () => {
    // Pooled, a looks better (it had the better days); within days it is worse.
    const significant = { ...base, alwaysValidP: { ...base.alwaysValidP, a: 0.01 } };
    expect(
      allocateThreePhase({ ...significant, lifts: { a: -0.004 } }, seededRandom(1)),
    ).toMatchObject({ phase: 'winner', winner: 'control' });
    expect(
      allocateThreePhase({ ...significant, lifts: { a: 0.004 } }, seededRandom(1)),
    ).toMatchObject({ phase: 'winner', winner: 'a' });
  });

  it('gives a single treatment 80 % in the second phase', () => {
    const arms = base.arms.slice(0, 2);
    expect(weights(allocateThreePhase({ ...base, arms }, seededRandom(1)))).toEqual({
      control: 0.2,
      a: 0.8,
    });
  });

  it('refuses a control that is not an arm', () => {
    expect(() => allocateThreePhase({ ...base, control: 'nope' }, seededRandom(1))).toThrow(
      /control arm "nope"/,
    );
  });
});
