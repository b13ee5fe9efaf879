import { isDeepStrictEqual } from 'node:util';
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

/**
 * Equality of JSON values: a list or an object (a trait may hold either) equals one with the
 * same contents, not only itself; numbers and text as `===` has them.
 */
const sameJson = (left: unknown, right: unknown): boolean =>
  left === right || (typeof left === 'object' && left !== null && isDeepStrictEqual(left, right));

const compare = (left: unknown, op: string, right: unknown): boolean => {
  switch (op) {
    case 'eq':
      return sameJson(left, right);
    case 'neq':
      return !sameJson(left, right);
    case 'in':
      return Array.isArray(right) && right.some((item) => sameJson(left, item));
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
