import type { CustomerId } from './ids.js';

/** Items by their customer: each customer's in the order given, customers by first appearance. */
export const groupByCustomer = <T extends { readonly customerId: CustomerId }>(
  items: readonly T[],
): Map<CustomerId, T[]> => {
  const groups = new Map<CustomerId, T[]>();
  for (const item of items) {
    const group = groups.get(item.customerId);
    if (group === undefined) groups.set(item.customerId, [item]);
    else group.push(item);
  }
  return groups;
};
