import type { CustomerId } from '../../core/ids.js';
import { hashPartsToUnit } from './hash-parts-to-unit.js';

/** One arm of an experiment and its share of traffic (weights are relative; they need not sum to 1). */
export interface Arm {
  name: string;
  weight: number;
}

/** What assignment needs to know about an experiment. */
export interface ArmDesign {
  /** Fixed for the life of the experiment; a new salt reshuffles everyone. */
  salt: string;
  arms: readonly Arm[];
}

/** Throws a RangeError naming the first problem: no arms, a blank salt or name, a duplicate, a bad weight. */
export const assertArmDesign = (design: ArmDesign): void => {
  if (design.salt === '') throw new RangeError('the experiment salt must not be empty');
  if (design.arms.length === 0) throw new RangeError('an experiment needs at least one arm');
  const seen = new Set<string>();
  let total = 0;
  for (const { name, weight } of design.arms) {
    if (name === '') throw new RangeError('arm names must not be empty');
    if (seen.has(name)) throw new RangeError(`arm names must be unique: "${name}" appears twice`);
    seen.add(name);
    if (!(Number.isFinite(weight) && weight >= 0)) {
      throw new RangeError(`arm "${name}": weight must be a finite number ≥ 0, got ${weight}`);
    }
    total += weight;
  }
  if (!(total > 0)) throw new RangeError('arm weights must sum to more than 0');
};

/**
 * The arm whose slice of [0, 1) contains u, slices laid out in the arms' order with widths
 * proportional to their weights (arms of weight 0 get none).
 */
export const armAt = (u: number, arms: readonly Arm[]): string => {
  const total = arms.reduce((sum, arm) => sum + arm.weight, 0);
  const target = u * total;
  let cumulative = 0;
  let last: string | undefined;
  for (const arm of arms) {
    if (arm.weight === 0) continue;
    cumulative += arm.weight;
    last = arm.name;
    if (target < cumulative) return arm.name;
  }
  // Only reachable through rounding in the running sum: the last arm that has weight.
  if (last === undefined) throw new RangeError('arm weights must sum to more than 0');
  return last;
};

/**
 * The customer's arm: the same for the same (salt, customer, stratum, arms) on every call and
 * every machine, so a customer sees one variant across sends. u = hashPartsToUnit(['assign', salt,
 * customerId]) picks the arm by weight. With a stratum, u = hashPartsToUnit(['assign-stratified',
 * salt, stratum, customerId]): each stratum gets its own, independent split, so the share of each
 * arm within every stratum converges to the weights separately (binomial noise, not exact
 * counts — `assignBalanced` gives exact counts for a known cohort). The stratum must be fixed
 * when the customer enters the experiment: a customer whose stratum changes may change arm.
 * Changing the weights moves only the customers whose u falls in a slice that moved.
 */
export const assignArm = (customerId: CustomerId, design: ArmDesign, stratum?: string): string => {
  assertArmDesign(design);
  const parts =
    stratum === undefined
      ? ['assign', design.salt, customerId]
      : ['assign-stratified', design.salt, stratum, customerId];
  return armAt(hashPartsToUnit(parts), design.arms);
};
