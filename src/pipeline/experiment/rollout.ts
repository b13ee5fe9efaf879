import type { CustomerId } from '../../core/ids.js';
import { hashPartsToUnit } from './hash-parts-to-unit.js';

export interface RolloutPolicy {
  /** Cohort percentages in increasing order, ending at 100. */
  stagesPercent: readonly number[];
  /** Compliance violations tolerated during a stage; 0 — any violation stops the rollout. */
  maxComplianceViolations: number;
  /** The requirements ask for a decision latency p95 under 2 s. */
  maxP95LatencyMs: number;
  /** Fraction of the stage during which Herald was up (0–1). */
  minUptime: number;
  /** Messages a stage must have sent before its figures count as evidence for advancing. */
  minMessages: number;
}

export const DEFAULT_ROLLOUT_POLICY: RolloutPolicy = {
  stagesPercent: [5, 20, 50, 100],
  maxComplianceViolations: 0,
  maxP95LatencyMs: 2000,
  minUptime: 0.999,
  minMessages: 1000,
};

/** What was observed during the current stage. */
export interface RolloutHealth {
  messages: number;
  complianceViolations: number;
  p95LatencyMs: number;
  uptime: number;
}

export type RolloutDecision =
  | { action: 'advance'; fromPercent: number; toPercent: number; reasons: string[] }
  | { action: 'hold'; percent: number; reasons: string[] }
  | { action: 'roll-back'; fromPercent: number; toPercent: number; reasons: string[] };

const assertPolicy = (policy: RolloutPolicy): void => {
  const stages = policy.stagesPercent;
  if (stages.length === 0 || stages.at(-1) !== 100) {
    throw new RangeError('rollout stages must end at 100 %');
  }
  stages.forEach((percent, i) => {
    if (!(percent > 0 && percent <= 100) || (i > 0 && percent <= (stages[i - 1] ?? 0))) {
      throw new RangeError(
        `rollout stages must increase within (0, 100], got ${stages.join(', ')}`,
      );
    }
  });
  if (!(policy.minUptime >= 0 && policy.minUptime <= 1)) {
    throw new RangeError(`minUptime must be in [0, 1], got ${policy.minUptime}`);
  }
};

/**
 * The go/no-go decision at the end of a rollout stage. Any compliance violation above the
 * maximum rolls back to 0 % (exposure is the harm, so the rollout stops); a p95 latency above
 * the limit or uptime below it rolls back one stage; otherwise the rollout holds until the
 * stage has sent `minMessages`, then advances to the next stage, and holds at 100 %. At 0 %
 * (not started) it advances to the first stage. Every decision lists its reasons.
 */
export const decideRollout = (
  currentPercent: number,
  health: RolloutHealth,
  policy: RolloutPolicy = DEFAULT_ROLLOUT_POLICY,
): RolloutDecision => {
  assertPolicy(policy);
  const stages = policy.stagesPercent;
  const index = stages.indexOf(currentPercent);
  if (currentPercent !== 0 && index === -1) {
    throw new RangeError(`${currentPercent} % is not a rollout stage (${stages.join(', ')})`);
  }
  const next = stages[index + 1] ?? 100;
  if (currentPercent === 0) {
    return { action: 'advance', fromPercent: 0, toPercent: next, reasons: ['rollout starts'] };
  }
  if (health.complianceViolations > policy.maxComplianceViolations) {
    return {
      action: 'roll-back',
      fromPercent: currentPercent,
      toPercent: 0,
      reasons: [
        `${health.complianceViolations} compliance violations (at most ${policy.maxComplianceViolations} allowed)`,
      ],
    };
  }
  const failures: string[] = [];
  if (!(health.p95LatencyMs <= policy.maxP95LatencyMs)) {
    failures.push(`p95 latency ${health.p95LatencyMs} ms above ${policy.maxP95LatencyMs} ms`);
  }
  if (!(health.uptime >= policy.minUptime)) {
    failures.push(`uptime ${health.uptime} below ${policy.minUptime}`);
  }
  if (failures.length > 0) {
    const previous = index > 0 ? (stages[index - 1] ?? 0) : 0;
    return {
      action: 'roll-back',
      fromPercent: currentPercent,
      toPercent: previous,
      reasons: failures,
    };
  }
  if (health.messages < policy.minMessages) {
    return {
      action: 'hold',
      percent: currentPercent,
      reasons: [
        `${health.messages} messages sent, ${policy.minMessages} needed to judge the stage`,
      ],
    };
  }
  if (currentPercent === 100) {
    return { action: 'hold', percent: 100, reasons: ['fully rolled out; every check passes'] };
  }
  return {
    action: 'advance',
    fromPercent: currentPercent,
    toPercent: next,
    reasons: ['no compliance violations, latency and uptime within limits'],
  };
};

/**
 * True when the customer is in the first `percent` % of the rollout: hashPartsToUnit(['rollout',
 * salt, customerId]) · 100 < percent. Cohorts are nested — a customer in the 5 % cohort is in the
 * 20 % one — so advancing only adds customers and rolling back only removes the newest.
 */
export const isInRollout = (customerId: CustomerId, percent: number, salt: string): boolean => {
  if (!(percent >= 0 && percent <= 100)) {
    throw new RangeError(`rollout percent must be in [0, 100], got ${percent}`);
  }
  if (salt === '') throw new RangeError('the rollout salt must not be empty');
  return hashPartsToUnit(['rollout', salt, customerId]) * 100 < percent;
};
