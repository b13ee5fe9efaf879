import { describe, expect, it } from 'vitest';
import type { Proposal } from '../proposal.js';
import {
  aState,
  aView,
  anEnv,
  consentOf,
  daysMs,
  defaultDecidePolicy,
  withPolicy,
  t0,
} from '../test-builders.js';
import {
  celebrationAgent,
  customEventAgent,
  lifecycleAgent,
  milestoneAgent,
} from './lifecycle-agent.js';

const stageChange = (to: string, from: string | null = 'active') =>
  ({ kind: 'stage-changed', from, to }) as const;

const proposal = (result: Proposal | string): Proposal => {
  if (typeof result === 'string') throw new Error(`expected a proposal, got: ${result}`);
  return result;
};

/** The default policy without win-back waves, so churned customers stay with this agent. */
const noWaves = () =>
  anEnv({ policy: withPolicy({ winBack: { ...defaultDecidePolicy().winBack, waves: [] } }) });

const vip = aView({ computed: { vip: true, ltv: 2500, monetary: 2500, frequency: 5 } });

describe('lifecycleAgent', () => {
  it.each([
    ['new', 'onboarding', 'onboarding'],
    ['active', 'engagement', 'upsell'],
  ])('sends %s customers the %s message without an offer', (to, action, template) => {
    const p = proposal(lifecycleAgent(aView(), stageChange(to, null), anEnv(), t0));
    expect(p).toMatchObject({ agent: 'lifecycle', kind: 'send', action, template, priority: 50 });
    expect(p.incentive).toBeNull();
    expect(p.confidence).toBeGreaterThan(0.5);
    expect(p.reasons[0]).toBe(`lifecycle stage unknown → ${to}`);
  });

  it('offers at-risk customers 10 % for a week', () => {
    const p = proposal(lifecycleAgent(aView(), stageChange('at-risk'), anEnv(), t0));
    expect(p.action).toBe('win-back-offer');
    expect(p.template).toBe('win-back-offer');
    expect(p.incentive?.percent).toBe(10);
    expect(p.incentive?.code).toMatch(/^BACK10-/);
    expect(p.incentive?.expiresAtMs).toBe(t0 + daysMs(7));
    expect(p.reasons).toContain('lifecycle stage active → at-risk');
    expect(p.reasons).toContain('10 % offer for stage at-risk');
  });

  it('leaves churned customers to the win-back dormant path', () => {
    expect(lifecycleAgent(aView(), stageChange('churned'), anEnv(), t0)).toBe(
      'churned: left to the win-back dormant path',
    );
    expect(lifecycleAgent(vip, stageChange('churned'), anEnv(), t0)).toBe(
      'churned: left to the win-back dormant path',
    );
  });

  it('offers churned customers 15 % itself when there is no dormant path', () => {
    const p = proposal(lifecycleAgent(aView(), stageChange('at-risk'), noWaves(), t0));
    expect(p.incentive?.percent).toBe(10);
    const churned = proposal(lifecycleAgent(aView(), stageChange('churned'), noWaves(), t0));
    expect(churned.action).toBe('reactivation');
    expect(churned.incentive?.percent).toBe(15);
  });

  it('escalates a VIP at risk to a person instead of an offer', () => {
    const p = proposal(lifecycleAgent(vip, stageChange('at-risk'), anEnv(), t0));
    expect(p).toMatchObject({
      kind: 'escalate',
      action: 'vip-outreach',
      channels: [],
      incentive: null,
      expectedValue: 2500,
      details: { ltv: 2500, segment: 'Standard' },
    });
    const churned = proposal(lifecycleAgent(vip, stageChange('churned'), noWaves(), t0));
    expect(churned.kind).toBe('escalate');
  });

  it('sends a VIP who becomes active the usual message', () => {
    const p = proposal(lifecycleAgent(vip, stageChange('active', 'new'), anEnv(), t0));
    expect(p.kind).toBe('send');
    expect(p.action).toBe('engagement');
  });

  it('has no action for an unknown stage', () => {
    expect(lifecycleAgent(aView(), stageChange('asleep'), anEnv(), t0)).toBe(
      'no action for stage asleep',
    );
  });

  it('values the message at the average order', () => {
    const view = aView({ computed: { monetary: 300, frequency: 3 } });
    const p = proposal(lifecycleAgent(view, stageChange('at-risk'), anEnv(), t0));
    expect(p.expectedValue).toBeCloseTo(p.confidence * 100, 2);
  });
});

describe('milestoneAgent', () => {
  const placed = (orderCount: number) =>
    ({ kind: 'order-placed', orderCount, revenue: 0 }) as const;
  const view = aView({ computed: { monetary: 400, frequency: 5 } });

  it('thanks for the first order', () => {
    const p = proposal(milestoneAgent(view, placed(1), anEnv(), t0));
    expect(p).toMatchObject({
      agent: 'milestone',
      action: 'first-order-thanks',
      template: 'first-order',
      priority: 55,
      details: { orderCount: 1, orderNumber: 1 },
    });
  });

  it('marks the milestone orders, valued at the average order', () => {
    const p = proposal(milestoneAgent(view, placed(5), anEnv(), t0));
    expect(p.action).toBe('order-milestone');
    expect(p.template).toBe('order-milestone');
    expect(p.expectedValue).toBeCloseTo(p.confidence * 80, 2);
  });

  it('ignores orders that are not milestones', () => {
    expect(milestoneAgent(view, placed(3), anEnv(), t0)).toBe('order 3 is not a milestone');
  });
});

describe('celebrationAgent', () => {
  it('sends a birthday message at the custom priority', () => {
    const p = celebrationAgent(aView(), { kind: 'birthday' }, anEnv(), t0);
    expect(p).toMatchObject({ action: 'birthday', template: 'birthday', priority: 30 });
    expect(p.reasons).toContain('birthday today');
  });

  it('counts the years of a signup anniversary', () => {
    const p = celebrationAgent(aView(), { kind: 'anniversary', years: 2 }, anEnv(), t0);
    expect(p.action).toBe('anniversary');
    expect(p.reasons).toContain('2 year(s) since signup');
  });
});

describe('customEventAgent', () => {
  const trigger = { kind: 'custom-event', name: 'Trial Ending', properties: {} } as const;
  const env = anEnv({
    policy: withPolicy({
      customEvents: [
        { event: 'Trial Ending', template: 'trial-ending', channels: ['push', 'email'] },
      ],
    }),
  });

  it('sends the configured template on the configured channels', () => {
    const view = aView({ state: aState({ consent: consentOf(['email', 'push']) }) });
    const p = proposal(customEventAgent(view, trigger, env, t0));
    expect(p).toMatchObject({
      agent: 'custom',
      action: 'on-Trial Ending',
      template: 'trial-ending',
      channels: ['push', 'email'],
    });
  });

  it('does nothing for an event without a rule', () => {
    expect(customEventAgent(aView(), trigger, anEnv(), t0)).toBe('no rule for event Trial Ending');
  });
});
