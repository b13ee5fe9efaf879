import type { CustomerId } from '../../core/ids.js';
import { armAt, assertArmDesign, type ArmDesign } from './assign-arm.js';
import { hashPartsToUnit } from './hash-parts-to-unit.js';

export interface StratifiedCustomer {
  customerId: CustomerId;
  stratum: string;
}

/**
 * Exact per-stratum balance for a cohort known in full (e.g. a campaign's send list): within each
 * stratum the customers are ordered by hashPartsToUnit(['assign-stratified', salt, stratum, id]) (a
 * random order nobody chooses), and the customer at rank r of m gets the arm whose slice contains
 * (r + ½)/m. Every arm then receives m·wᵢ/Σw customers of each stratum, rounded up or down
 * (systematic allocation over a random permutation — stratified permuted-block randomisation with
 * one block per stratum). The result depends on the whole cohort: adding customers can move
 * others, so assign a cohort once and record the arms.
 */
export const assignBalanced = (
  customers: readonly StratifiedCustomer[],
  design: ArmDesign,
): Map<CustomerId, string> => {
  assertArmDesign(design);
  const strata = new Map<string, { customerId: CustomerId; u: number }[]>();
  for (const { customerId, stratum } of customers) {
    const members = strata.get(stratum) ?? [];
    members.push({
      customerId,
      u: hashPartsToUnit(['assign-stratified', design.salt, stratum, customerId]),
    });
    strata.set(stratum, members);
  }
  const arms = new Map<CustomerId, string>();
  for (const members of strata.values()) {
    members.sort((a, b) => a.u - b.u || (a.customerId < b.customerId ? -1 : 1));
    members.forEach(({ customerId }, rank) => {
      if (arms.has(customerId)) throw new RangeError(`customer ${customerId} appears twice`);
      arms.set(customerId, armAt((rank + 0.5) / members.length, design.arms));
    });
  }
  return arms;
};
