import type { Membership } from '../../../ports/decide-store.js';
import type { CustomerView } from '../proposal.js';
import type { Condition } from './journey-schema.js';

const fieldValue = (view: CustomerView, field: string): unknown => {
  if (field.startsWith('trait.')) return view.state.traits[field.slice('trait.'.length)];
  switch (field) {
    case 'segment':
      return view.segment;
    case 'country':
      return view.state.location.country;
    case 'cartValue':
      return (view.state.cart?.valueCents ?? 0) / 100;
    case 'lifecycleStage':
    case 'frequency':
    case 'monetary':
    case 'engagementScore':
    case 'churnRisk':
    case 'vip':
    case 'ltv':
    case 'recencyDays':
      return view.computed[field];
    default:
      return undefined;
  }
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
