import type { Random } from '../../ports/random.js';
import { sampleBeta } from './sample-gamma.js';

/** Binary outcomes of one arm so far (e.g. conversions out of exposed customers). */
export interface ArmOutcome {
  name: string;
  successes: number;
  trials: number;
}

export interface ThompsonOptions {
  /** Monte Carlo draws from the posteriors; 1,000 by default (standard error ≤ 0.016 per share). */
  draws?: number;
  /** Beta prior on every arm's rate; Beta(1, 1) (uniform) by default. */
  prior?: { alpha: number; beta: number };
  /**
   * Top-two Thompson sampling (Russo 2020): the probability β of playing the leader, the rest
   * going to a challenger. Off (plain Thompson sampling) when undefined; Russo recommends 0.5.
   */
  topTwoBeta?: number;
  /** Every arm keeps at least this share of traffic (0 ≤ minShare ≤ 1/arms); 0 by default. */
  minShare?: number;
  /** Below this many trials in any arm, traffic stays equal; 100 by default. */
  minTrialsPerArm?: number;
}

export interface ArmAllocation {
  name: string;
  /** The share of new traffic for this arm; the weights sum to 1. */
  weight: number;
  /** Monte Carlo estimate of Pr(this arm has the highest rate) under the posteriors. */
  chanceToBeBest: number;
}

export interface BanditAllocation {
  mode: 'warm-up' | 'thompson' | 'top-two';
  arms: ArmAllocation[];
}

export const assertOutcomes = (arms: readonly ArmOutcome[]): void => {
  if (arms.length === 0) throw new RangeError('a bandit needs at least one arm');
  const names = new Set<string>();
  for (const { name, successes, trials } of arms) {
    if (names.has(name)) throw new RangeError(`arm names must be unique: "${name}" appears twice`);
    names.add(name);
    if (!(Number.isInteger(trials) && trials >= 0)) {
      throw new RangeError(`arm "${name}": trials must be an integer ≥ 0, got ${trials}`);
    }
    if (!(Number.isInteger(successes) && successes >= 0 && successes <= trials)) {
      throw new RangeError(`arm "${name}": successes must be an integer in [0, ${trials}]`);
    }
  }
};

/**
 * Pr(arm i is best) for every arm, estimated from `draws` joint draws of the Beta posteriors,
 * plus, per leader j, how often each other arm came second (used when j won every draw).
 */
export const estimateChanceToBeBest = (
  arms: readonly ArmOutcome[],
  random: Random,
  draws: number,
  prior: { alpha: number; beta: number },
): { best: number[]; secondGivenBest: number[][] } => {
  const k = arms.length;
  const bestCounts = new Array<number>(k).fill(0);
  const second = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  const alphas = arms.map((arm) => prior.alpha + arm.successes);
  const betas = arms.map((arm) => prior.beta + arm.trials - arm.successes);
  for (let draw = 0; draw < draws; draw++) {
    let top = -1;
    let topValue = -Infinity;
    let runnerUp = -1;
    let runnerUpValue = -Infinity;
    for (let i = 0; i < k; i++) {
      const value = sampleBeta(alphas[i] ?? 1, betas[i] ?? 1, random);
      if (value > topValue) {
        runnerUp = top;
        runnerUpValue = topValue;
        top = i;
        topValue = value;
      } else if (value > runnerUpValue) {
        runnerUp = i;
        runnerUpValue = value;
      }
    }
    bestCounts[top] = (bestCounts[top] ?? 0) + 1;
    const row = second[top];
    if (row !== undefined && runnerUp >= 0) row[runnerUp] = (row[runnerUp] ?? 0) + 1;
  }
  return {
    best: bestCounts.map((count) => count / draws),
    secondGivenBest: second.map((row, j) => row.map((count) => count / (bestCounts[j] || 1))),
  };
};

/**
 * Top-two weights (Russo 2020, "Simple Bayesian algorithms for best-arm identification", §3):
 * play the leader I with probability β, else re-sample until another arm J leads. Since re-draws
 * are independent, Pr(J = i | I = j) = πᵢ/(1 − πⱼ), so wᵢ = β·πᵢ + (1 − β)·Σ_{j≠i} πⱼ·πᵢ/(1 − πⱼ).
 * When one arm won every draw (πⱼ = 1) the runner-up frequencies stand in for πᵢ/(1 − πⱼ).
 */
const topTwoWeights = (
  best: readonly number[],
  secondGivenBest: readonly (readonly number[])[],
  beta: number,
): number[] =>
  best.map((pi, i) => {
    let challenger = 0;
    best.forEach((leader, j) => {
      if (j === i || leader === 0) return;
      challenger += leader * (leader < 1 ? pi / (1 - leader) : (secondGivenBest[j]?.[i] ?? 0));
    });
    return beta * pi + (1 - beta) * challenger;
  });

/**
 * New traffic weights by Beta-Bernoulli Thompson sampling: each arm gets its posterior chance of
 * being best (or the top-two weights), estimated by Monte Carlo over the injected `Random`, so
 * the same seed gives the same weights; then every arm is lifted to at least `minShare` by
 * wᵢ' = f + (1 − k·f)·wᵢ. Until every arm has `minTrialsPerArm` trials, the split stays equal.
 */
export const allocateThompson = (
  arms: readonly ArmOutcome[],
  random: Random,
  options: ThompsonOptions = {},
): BanditAllocation => {
  assertOutcomes(arms);
  const draws = options.draws ?? 1000;
  const prior = options.prior ?? { alpha: 1, beta: 1 };
  const minShare = options.minShare ?? 0;
  const minTrials = options.minTrialsPerArm ?? 100;
  const k = arms.length;
  if (!(Number.isInteger(draws) && draws >= 1)) {
    throw new RangeError(`draws must be an integer ≥ 1, got ${draws}`);
  }
  if (!(prior.alpha > 0 && prior.beta > 0))
    throw new RangeError('prior alpha and beta must be > 0');
  if (!(minShare >= 0 && minShare * k <= 1)) {
    throw new RangeError(`minShare must be in [0, 1/${k}], got ${minShare}`);
  }
  const topTwo = options.topTwoBeta;
  if (topTwo !== undefined && !(topTwo > 0 && topTwo < 1)) {
    throw new RangeError(`topTwoBeta must be in (0, 1), got ${topTwo}`);
  }
  const { best, secondGivenBest } = estimateChanceToBeBest(arms, random, draws, prior);
  const warmUp = arms.some((arm) => arm.trials < minTrials);
  const raw = warmUp
    ? arms.map(() => 1 / k)
    : topTwo === undefined || k < 2
      ? best
      : topTwoWeights(best, secondGivenBest, topTwo);
  return {
    mode: warmUp ? 'warm-up' : topTwo === undefined ? 'thompson' : 'top-two',
    arms: arms.map((arm, i) => ({
      name: arm.name,
      weight: minShare + (1 - k * minShare) * (raw[i] ?? 0),
      chanceToBeBest: best[i] ?? 0,
    })),
  };
};
