import { describe, expect, it } from 'vitest';
import { arbitrate } from './arbitrate.js';
import { aProposal, c1, defaultDecidePolicy, idSequence, t0 } from './test-builders.js';

const policy = defaultDecidePolicy();
const decide = (...proposals: Parameters<typeof aProposal>[0][]) =>
  arbitrate(c1, proposals.map(aProposal), policy, t0, idSequence());

describe('arbitrate', () => {
  it('has nothing to decide without proposals', () => {
    expect(decide()).toEqual([]);
  });

  it('schedules a single message as it was proposed', () => {
    const [decision] = decide({ reasons: ['r1'] });
    expect(decision).toMatchObject({
      id: 'd1',
      customerId: c1,
      agent: 'lifecycle',
      action: 'engagement',
      status: 'scheduled',
      channels: ['email'],
      scheduledForMs: t0,
      createdAtMs: t0,
      alternatives: [],
      reasons: ['r1'],
    });
  });

  it('lets the highest priority win and records the loser with the reason', () => {
    const decisions = decide(
      {
        agent: 'lifecycle',
        action: 'engagement',
        priority: 50,
        expectedValue: 500,
        reasons: ['stage new → active', 'email: opted in'],
      },
      { agent: 'cart', action: 'cart-recovery', priority: 90, expectedValue: 20 },
    );
    expect(decisions).toHaveLength(1);
    const [winner] = decisions;
    expect(winner?.agent).toBe('cart');
    expect(winner?.alternatives).toEqual([
      {
        agent: 'lifecycle',
        action: 'engagement',
        priority: 50,
        expectedValue: 500,
        reason: 'priority 50 < 90 (cart)',
        reasons: ['stage new → active', 'email: opted in'],
      },
    ]);
    expect(winner?.reasons).toEqual([
      'a reason',
      'outranked lifecycle/engagement: priority 50 < 90 (cart)',
    ]);
  });

  it("keeps each loser's own reasons, not the winner's", () => {
    const [winner] = decide(
      { agent: 'cart', action: 'cart-recovery', priority: 90, reasons: ['cart idle'] },
      { agent: 'milestone', action: 'first-order-thanks', priority: 55, reasons: ['first order'] },
      { agent: 'lifecycle', action: 'engagement', priority: 50, reasons: ['stage changed'] },
    );
    expect(winner?.alternatives.map((a) => [a.action, a.reasons])).toEqual([
      ['first-order-thanks', ['first order']],
      ['engagement', ['stage changed']],
    ]);
  });

  it('breaks a tie between two agents by name, and within one agent by the order proposed', () => {
    const [byName] = decide(
      { agent: 'lifecycle', action: 'birthday', priority: 30, expectedValue: 0 },
      { agent: 'custom', action: 'on-signup', priority: 30, expectedValue: 0 },
    );
    expect(byName?.action).toBe('on-signup');
    expect(byName?.alternatives.map((a) => a.reason)).toEqual([
      'same priority and expected value as custom, which comes first by name',
    ]);
    const [first] = decide(
      { agent: 'campaign', action: 'campaign:spring', priority: 45, expectedValue: 0 },
      { agent: 'campaign', action: 'campaign:autumn', priority: 45, expectedValue: 0 },
    );
    expect(first?.action).toBe('campaign:spring');
    expect(first?.alternatives.map((a) => a.reason)).toEqual([
      'same agent, priority and expected value as campaign/campaign:spring, which was proposed first',
    ]);
  });

  it('breaks a priority tie by expected value', () => {
    const [winner] = decide(
      { agent: 'cart', action: 'small', priority: 60, expectedValue: 5 },
      { agent: 'lifecycle', action: 'big', priority: 60, expectedValue: 20 },
      { agent: 'milestone', action: 'low', priority: 10, expectedValue: 99 },
    );
    expect(winner?.action).toBe('big');
    expect(winner?.alternatives.map((a) => a.reason)).toEqual([
      'expected value 5 < 20 (lifecycle)',
      'priority 10 < 60 (lifecycle)',
    ]);
  });

  it('skips a message below the confidence threshold and lets the rest compete', () => {
    const decisions = decide(
      { agent: 'cart', action: 'cart-recovery', priority: 90, confidence: 0.4 },
      { agent: 'lifecycle', action: 'engagement', priority: 50, confidence: 0.5 },
    );
    expect(decisions.map((d) => [d.action, d.status])).toEqual([
      ['cart-recovery', 'skipped'],
      ['engagement', 'scheduled'],
    ]);
    expect(decisions[0]?.reasons.at(-1)).toBe('skipped: confidence 0.4 below the threshold 0.5');
    expect(decisions[1]?.alternatives).toEqual([]);
  });

  it('skips a message without a channel', () => {
    const [decision] = decide({ channels: [], confidence: 0 });
    expect(decision?.status).toBe('skipped');
    expect(decision?.reasons.at(-1)).toBe('skipped: no channel');
  });

  it('lets web content and escalations through without competing', () => {
    const decisions = decide(
      { kind: 'web', agent: 'journey', action: 'web-content', channels: ['web'], priority: 10 },
      { kind: 'escalate', agent: 'win-back', action: 'concierge-outreach', channels: [] },
      { agent: 'cart', action: 'cart-recovery', priority: 90 },
      { agent: 'lifecycle', action: 'engagement', priority: 50 },
    );
    expect(decisions.map((d) => [d.action, d.status])).toEqual([
      ['web-content', 'scheduled'],
      ['concierge-outreach', 'escalated'],
      ['cart-recovery', 'scheduled'],
    ]);
    expect(decisions[2]?.alternatives.map((a) => a.action)).toEqual(['engagement']);
    expect(new Set(decisions.map((d) => d.id)).size).toBe(3);
  });

  it('lets a message for the web alone through without pushing out an email', () => {
    const decisions = decide(
      { agent: 'win-back', action: 'win-back-web', channels: ['web'], priority: 70 },
      { agent: 'lifecycle', action: 'birthday', channels: ['email'], priority: 30 },
    );
    expect(decisions.map((d) => [d.action, d.status, d.alternatives.length])).toEqual([
      ['win-back-web', 'scheduled', 0],
      ['birthday', 'scheduled', 0],
    ]);
  });
});
