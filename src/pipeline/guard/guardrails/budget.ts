import type { Guardrail } from '../guard-types.js';
import { pass, verdict } from '../guard-types.js';

const NAME = 'budget';

// Money is compared in millionths of a major unit: prices like 0.0079 have no exact binary
// form, and 9.999 + 0.001 must land on a cap of 10, not a hair above it.
const micros = (amount: number): number => Math.round(amount * 1_000_000);

/**
 * Campaign budget caps: a message of a campaign with a budget goes only while what the
 * campaign has committed plus this message's cost (`costPerMessage` for its channel) stays
 * within the budget — landing exactly on the cap is allowed; beyond it the campaign is paused.
 */
export const budgetGuardrail: Guardrail = {
  name: NAME,
  check(message, context, policy) {
    if (message.campaignId === null) return [pass(NAME, 'not part of a campaign')];
    const b = context.campaignBudget;
    if (b === null || b.budget === null) return [pass(NAME, 'the campaign has no budget cap')];
    const cost = policy.costPerMessage[message.channel];
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
