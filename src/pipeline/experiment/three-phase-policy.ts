import type { Random } from '../../ports/random.js';
import { assertOutcomes, estimateChanceToBeBest, type ArmOutcome } from './thompson-sampling.js';

export interface ThreePhaseInput {
  control: string;
  arms: readonly ArmOutcome[];
  /**
   * The always-valid (sequential) p-value of each treatment against control, from the measure
   * stage (mixture SPRT), already adjusted for the number of treatments (Holm). Missing = 1.
   */
  alwaysValidP: Readonly<Record<string, number>>;
  /** The sample-ratio-mismatch alarm against the designed weights: it blocks promotion. */
  sampleRatioAlarm: boolean;
  /**
   * Each treatment's estimated difference from control, from the measure stage (within
   * assignment days, as its always-valid p). When given, its sign, not the arms' pooled
   * posterior means, says whether the leader or control wins: under changing weights and a
   * drifting baseline the pooled rates favour the arm that got more traffic on the better days.
   */
  lifts?: Readonly<Record<string, number>>;
}

export interface ThreePhaseOptions {
  /** Trials every arm needs before the equal split ends; 1,000 by default. */
  minTrialsPerArm?: number;
  /** Significance level for declaring a winner; 0.05 by default. */
  alpha?: number;
  /** Monte Carlo draws for picking the top two; 1,000 by default. */
  draws?: number;
}

export interface ThreePhaseAllocation {
  phase: 'equal-split' | 'top-two' | 'winner';
  arms: { name: string; weight: number }[];
  /** Set in the winner phase: the arm that takes all traffic (it may be control). */
  winner?: string;
  reasons: string[];
}

const posteriorMean = (arm: ArmOutcome): number => (arm.successes + 1) / (arm.trials + 2);

/**
 * The three-phase schedule of the requirements, as one pure step: (1) an equal split until every
 * arm has `minTrialsPerArm` trials; (2) the two treatments most likely to be best (Thompson
 * sampling's Monte Carlo chance to be best, over the injected `Random`) get 40 % each and control
 * 20 % (a single treatment gets 80 %); (3) once the leader's always-valid p-value is below
 * `alpha` and there is no sample-ratio alarm, the better of leader and control takes all traffic.
 * Each call re-reads the data, so the top two may change between calls while phase 2 lasts.
 */
export const allocateThreePhase = (
  input: ThreePhaseInput,
  random: Random,
  options: ThreePhaseOptions = {},
): ThreePhaseAllocation => {
  const { arms, control: controlName } = input;
  assertOutcomes(arms);
  const minTrials = options.minTrialsPerArm ?? 1000;
  const alpha = options.alpha ?? 0.05;
  const control = arms.find((arm) => arm.name === controlName);
  const treatments = arms.filter((arm) => arm.name !== controlName);
  if (control === undefined) throw new RangeError(`control arm "${controlName}" is not an arm`);
  if (treatments.length === 0) throw new RangeError('the three-phase policy needs a treatment');
  const split = (shares: ReadonlyMap<string, number>) =>
    arms.map((arm) => ({ name: arm.name, weight: shares.get(arm.name) ?? 0 }));

  const short = arms.filter((arm) => arm.trials < minTrials);
  if (short.length > 0) {
    return {
      phase: 'equal-split',
      arms: arms.map((arm) => ({ name: arm.name, weight: 1 / arms.length })),
      reasons: [`${short.map((arm) => arm.name).join(', ')} below ${minTrials} trials`],
    };
  }

  const { best } = estimateChanceToBeBest(treatments, random, options.draws ?? 1000, {
    alpha: 1,
    beta: 1,
  });
  const ranked = treatments
    .map((arm, i) => ({ arm, chance: best[i] ?? 0 }))
    .sort(
      (a, b) =>
        b.chance - a.chance ||
        posteriorMean(b.arm) - posteriorMean(a.arm) ||
        (a.arm.name < b.arm.name ? -1 : 1),
    );
  const [leader, runnerUp] = ranked;
  if (leader === undefined) throw new RangeError('the three-phase policy needs a treatment');
  const p = input.alwaysValidP[leader.arm.name] ?? 1;
  const reasons: string[] = [];
  if (p < alpha) {
    if (input.sampleRatioAlarm) {
      reasons.push('sample-ratio mismatch: promotion blocked until assignment is fixed');
    } else {
      const lift = input.lifts?.[leader.arm.name];
      const better =
        lift === undefined ? posteriorMean(leader.arm) > posteriorMean(control) : lift > 0;
      const winner = better ? leader.arm.name : control.name;
      return {
        phase: 'winner',
        arms: split(new Map([[winner, 1]])),
        winner,
        reasons: [`${leader.arm.name} vs ${control.name}: always-valid p ${p} < ${alpha}`],
      };
    }
  } else {
    reasons.push(`${leader.arm.name} vs ${control.name}: always-valid p ${p} ≥ ${alpha}`);
  }
  const shares = new Map([[control.name, 0.2]]);
  if (runnerUp === undefined) {
    shares.set(leader.arm.name, 0.8);
  } else {
    shares.set(leader.arm.name, 0.4);
    shares.set(runnerUp.arm.name, 0.4);
  }
  return { phase: 'top-two', arms: split(shares), reasons };
};
