import type { Guardrail, Verdict } from '../guard-types.js';
import { pass, verdict } from '../guard-types.js';

const NAME = 'financial';

/**
 * Financial controls: a discount below `reviewFromPercent` goes automatically, from it up to
 * `blockAbovePercent` (inclusive) to review, above it is blocked; any message to a customer
 * whose LTV is above `reviewLtvAbove` goes to review (VIP escalation).
 */
export const financialGuardrail: Guardrail = {
  name: NAME,
  check(message, context, policy) {
    const found: Verdict[] = [];
    const percent = message.incentive?.percent ?? null;
    const d = policy.discount;
    if (percent !== null && percent > d.blockAbovePercent)
      found.push(
        verdict(
          NAME,
          'block',
          'discount_too_high',
          `${percent} % is above ${d.blockAbovePercent} %`,
          { percent },
        ),
      );
    else if (percent !== null && percent >= d.reviewFromPercent)
      found.push(
        verdict(
          NAME,
          'review',
          'discount_needs_review',
          `${percent} % is from ${d.reviewFromPercent} % to ${d.blockAbovePercent} %`,
          { percent },
        ),
      );
    if (context.ltv > policy.reviewLtvAbove)
      found.push(
        verdict(
          NAME,
          'review',
          'vip_review',
          `LTV $${context.ltv.toFixed(2)} above $${policy.reviewLtvAbove}`,
          { ltv: context.ltv },
        ),
      );
    return found.length > 0
      ? found
      : [pass(NAME, percent === null ? 'no incentive' : `${percent} % goes automatically`)];
  },
};
