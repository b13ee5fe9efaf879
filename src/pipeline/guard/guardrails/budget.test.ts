import { describe, expect, it } from 'vitest';
import type { Channel } from '../../../core/profile.js';
import type { GuardContext } from '../guard-types.js';
import { aContent, aContext, aMessage, defaultGuardPolicy, notPassing } from '../test-builders.js';
import type { GuardPolicy } from '../policy.js';
import { budgetGuardrail, messageCost } from './budget.js';

const policy = defaultGuardPolicy();

const codes = (
  campaignBudget: GuardContext['campaignBudget'],
  channel: Channel = 'email',
  p: GuardPolicy = policy,
) =>
  notPassing(
    budgetGuardrail.check(
      aMessage({ campaignId: 'spring-sale', channel }),
      aContext({ campaignBudget }),
      p,
    ),
  );

describe('budgetGuardrail', () => {
  it('lets the message that lands exactly on the cap go', () => {
    expect(codes({ budget: 10, spent: 9.999 })).toEqual([]);
    expect(codes({ budget: 100, spent: 99.9921 }, 'sms')).toEqual([]);
    // 0.2 + 0.1 is 0.30000000000000004 in binary floating point.
    const dime = { ...policy, costPerMessage: { ...policy.costPerMessage, email: 0.1 } };
    expect(codes({ budget: 0.3, spent: 0.2 }, 'email', dime)).toEqual([]);
  });

  it('pauses the campaign when the message would go one cent over', () => {
    const cent = { ...policy, costPerMessage: { ...policy.costPerMessage, email: 0.01 } };
    expect(codes({ budget: 10, spent: 9.99 }, 'email', cent)).toEqual([]);
    expect(codes({ budget: 10, spent: 10 }, 'email', cent)).toEqual(['block:budget_exhausted']);
    expect(codes({ budget: 10, spent: 10.009 })).toEqual(['block:budget_exhausted']);
  });

  it('reports the budget, what was spent and the cost', () => {
    const [v] = budgetGuardrail.check(
      aMessage({ campaignId: 'spring-sale', channel: 'sms' }),
      aContext({ campaignBudget: { budget: 50, spent: 50 } }),
      policy,
    );
    expect(v).toMatchObject({
      outcome: 'block',
      code: 'budget_exhausted',
      figures: { campaignId: 'spring-sale', budget: 50, spent: 50, cost: 0.0079 },
    });
    expect(v?.reason).toContain('campaign paused at its budget cap');
  });

  it('prices an SMS by the segments its text takes', () => {
    const sms = (body: string) =>
      messageCost({ channel: 'sms', content: aContent({ body }) }, policy);
    expect(sms('a'.repeat(160))).toBeCloseTo(0.0079, 10);
    expect(sms('a'.repeat(528))).toBeCloseTo(4 * 0.0079, 10);
    expect(sms(`Анна ${'a'.repeat(224)}`)).toBeCloseTo(4 * 0.0079, 10);
    // Two segments' budget left: a four-segment text pauses the campaign.
    const [v] = budgetGuardrail.check(
      aMessage({
        campaignId: 'spring-sale',
        channel: 'sms',
        content: aContent({ body: 'a'.repeat(528) }),
      }),
      aContext({ campaignBudget: { budget: 0.0158, spent: 0 } }),
      policy,
    );
    expect(v).toMatchObject({ outcome: 'block', code: 'budget_exhausted' });
  });

  it('does not cap a campaign without a budget, a free channel or a message of no campaign', () => {
    expect(codes({ budget: null, spent: 1e6 })).toEqual([]);
    expect(codes(null)).toEqual([]);
    expect(codes({ budget: 10, spent: 10 }, 'push')).toEqual([]);
    expect(
      notPassing(
        budgetGuardrail.check(
          aMessage({ campaignId: null }),
          aContext({ campaignBudget: { budget: 0, spent: 5 } }),
          policy,
        ),
      ),
    ).toEqual([]);
  });
});
