import { smsSegments } from '../../../core/sms-segments.js';
import type { GuardMessage, Guardrail } from '../guard-types.js';
import { pass, verdict } from '../guard-types.js';
import type { GuardPolicy } from '../policy.js';

const NAME = 'budget';

// Money is compared in millionths of a major unit: prices like 0.0079 have no exact binary
// form, and 9.999 + 0.001 must land on a cap of 10, not a hair above it.
const micros = (amount: number): number => Math.round(amount * 1_000_000);

/**
 * What sending a message costs: `costPerMessage` for its channel — for SMS, a segment's price
 * times the segments its text takes (GSM-7 or UCS-2, as carriers bill it).
 */
export const messageCost = (
  message: Pick<GuardMessage, 'channel' | 'content'>,
  policy: Pick<GuardPolicy, 'costPerMessage'>,
): number =>
  message.channel === 'sms'
    ? policy.costPerMessage.sms * smsSegments(message.content?.body ?? '').segments
    : policy.costPerMessage[message.channel];

/**
 * Campaign budget caps: a message of a campaign with a budget goes only while what the
 * campaign has committed plus this message's cost (`messageCost`) stays within the budget —
 * landing exactly on the cap is allowed; beyond it the campaign is paused.
 */
export const budgetGuardrail: Guardrail = {
  name: NAME,
  check(message, context, policy) {
    if (message.campaignId === null) return [pass(NAME, 'not part of a campaign')];
    const b = context.campaignBudget;
    if (b === null || b.budget === null) return [pass(NAME, 'the campaign has no budget cap')];
    const cost = messageCost(message, policy);
    const figures = { campaignId: message.campaignId, budget: b.budget, spent: b.spent, cost };
    if (micros(b.spent) + micros(cost) > micros(b.budget))
      return [
        verdict(
          NAME,
          'block',
          'budget_exhausted',
          `campaign paused at its budget cap: ${b.spent} spent + ${cost} would exceed ${b.budget}`,
          figures,
        ),
      ];
    return [pass(NAME, 'within the campaign budget', figures)];
  },
};
