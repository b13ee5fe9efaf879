import type { Guardrail, Verdict } from '../guard-types.js';
import { pass, verdict, type GuardMessage } from '../guard-types.js';
import { visibleCopy } from './visible-copy.js';

const NAME = 'financial';

// A percentage: "40%", "40 percent", "12,5 per cent", "40 pct".
const PERCENT = /(\d{1,3}(?:[.,]\d+)?)\s*(?:%|percent\b|per\s*cent\b|pct\b)/giu;
// What makes one a discount, after it: "40% off", "40 percent discount" …
const DISCOUNT_AFTER = /^\s*(?:off\b|discount|reduction|savings?\b|rebate|markdown)/iu;
// … or before it: "save 40%", "take an extra 40% off", "up to 40%".
const DISCOUNT_BEFORE =
  /\b(?:save|saving|savings|take|get|extra|discount(?:\s+of)?|reduced\s+by|up\s+to)\s+(?:an?\s+)?(?:extra\s+|additional\s+)?(?:up\s+to\s+)?$/iu;
// The longest lead-in DISCOUNT_BEFORE can match in copy whose white space is folded, with room.
const LEAD_IN = 64;

/**
 * The largest discount the copy itself states (subject, text and HTML, as a reader sees them):
 * a template or generated copy may promise one the decision's incentive does not carry, and it
 * is held to the same limits. Null when it states none.
 */
export const discountInCopy = (content: GuardMessage['content']): number | null => {
  if (content === null) return null;
  const text = visibleCopy(content);
  let most: number | null = null;
  // Each percentage is found first (a scan for digits), then read in its context: much cheaper
  // than trying every lead-in word at every position of the copy.
  for (const match of text.matchAll(PERCENT)) {
    const percent = Number((match[1] ?? '').replace(',', '.'));
    if (!Number.isFinite(percent) || percent > 100 || (most !== null && percent <= most)) continue;
    const at = match.index;
    const end = at + match[0].length;
    if (
      DISCOUNT_AFTER.test(text.slice(end, end + LEAD_IN)) ||
      DISCOUNT_BEFORE.test(text.slice(Math.max(0, at - LEAD_IN), at))
    )
      most = percent;
  }
  return most;
};

/**
 * Financial controls: a discount below `reviewFromPercent` goes automatically, from it up to
 * `blockAbovePercent` (inclusive) to review, above it is blocked; any message to a customer
 * whose LTV is above `reviewLtvAbove` goes to review (VIP escalation).
 */
export const financialGuardrail: Guardrail = {
  name: NAME,
  check(message, context, policy) {
    const found: Verdict[] = [];
    const offered = message.incentive?.percent ?? null;
    const stated = discountInCopy(message.content);
    // The larger of the incentive and what the copy promises.
    const percent = stated === null || (offered !== null && offered >= stated) ? offered : stated;
    const what =
      percent !== null && percent === stated && percent !== offered
        ? `the copy promises ${String(percent)} %, which`
        : `${String(percent)} %`;
    const d = policy.discount;
    if (percent !== null && percent > d.blockAbovePercent)
      found.push(
        verdict(NAME, 'block', 'discount_too_high', `${what} is above ${d.blockAbovePercent} %`, {
          percent,
          offered,
          stated,
        }),
      );
    else if (percent !== null && percent >= d.reviewFromPercent)
      found.push(
        verdict(
          NAME,
          'review',
          'discount_needs_review',
          `${what} is from ${d.reviewFromPercent} % to ${d.blockAbovePercent} %`,
          { percent, offered, stated },
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
