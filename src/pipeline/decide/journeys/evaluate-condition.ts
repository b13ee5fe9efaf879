import type { Membership } from '../../../ports/decide-store.js';
import type { CustomerView } from '../proposal.js';
import type { Condition, conditionFields } from './journey-schema.js';

/** How each field a condition may name is read: a field added to the schema must say here how. */
const readers: Record<(typeof conditionFields)[number], (view: CustomerView) => unknown> = {
  segment: (view) => view.segment,
  country: (view) => view.state.location.country,
  cartValue: (view) => (view.state.cart?.valueCents ?? 0) / 100,
  lifecycleStage: (view) => view.computed.lifecycleStage,
  frequency: (view) => view.computed.frequency,
  monetary: (view) => view.computed.monetary,
  engagementScore: (view) => view.computed.engagementScore,
  churnRisk: (view) => view.computed.churnRisk,
  vip: (view) => view.computed.vip,
  ltv: (view) => view.computed.ltv,
  recencyDays: (view) => view.computed.recencyDays,
};

const fieldValue = (view: CustomerView, field: string): unknown => {
  if (field.startsWith('trait.')) return view.state.traits[field.slice('trait.'.length)];
  return Object.hasOwn(readers, field) ? readers[field as keyof typeof readers](view) : undefined;
};

const compare = (left: unknown, op: string, right: unknown): boolean => {
  switch (op) {
    case 'eq':
      return left === right;
    case 'neq':
      return left !== right;
    case 'in':
      return Array.isArray(right) && right.includes(left);
    default: {
      if (typeof left !== 'number' || typeof right !== 'number') return false;
      if (op === 'gt') return left > right;
      if (op === 'gte') return left >= right;
      if (op === 'lt') return left < right;
      return left <= right;
    }
  }
};

/** A branch condition on profile fields or on an event seen since the customer entered. */
export const evaluateCondition = (
  condition: Condition,
  view: CustomerView,
  membership: Membership,
): boolean =>
  'event' in condition
    ? membership.seenEvents.includes(condition.event)
    : compare(fieldValue(view, condition.field), condition.op, condition.value);
