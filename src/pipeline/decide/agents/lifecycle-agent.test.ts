import { describe, expect, it } from 'vitest';
import { hourOfWeek } from '../../../core/local-time.js';
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

const quiet = defaultDecidePolicy().quietHours;

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
    const p = proposal(celebrationAgent(aView(), { kind: 'birthday' }, anEnv(), t0));
    expect(p).toMatchObject({ action: 'birthday', template: 'birthday', priority: 30 });
    expect(p.reasons).toContain('birthday');
  });

  const living = (timezone: string, overrides: Parameters<typeof aState>[0] = {}) =>
    aView({
      state: aState({
        location: { country: null, region: null, city: null, timezone },
        ...overrides,
      }),
    });

  it("never sends before the customer's own day opens", () => {
    // The 06:01 UTC sweep of 15 June is 20:01 on 14 June in Honolulu, outside quiet hours.
    const sweptAt = Date.parse('2026-06-15T06:01:00.000Z');
    const p = proposal(
      celebrationAgent(
        living('Pacific/Honolulu', { traits: { email: 'c1@example.com', birthday: '1990-06-15' } }),
        { kind: 'birthday' },
        anEnv(),
        sweptAt,
      ),
    );
    // 08:00 HST on the 15th, when quiet hours end.
    expect(p.scheduledForMs).toBe(Date.parse('2026-06-15T18:00:00.000Z'));
    expect(p.reasons).toEqual(
      expect.arrayContaining([
        'birthday, on 2026-06-15 in Pacific/Honolulu',
        "not before 2026-06-15T18:00:00.000Z, when that day's sending hours open",
      ]),
    );
  });

  it('sends an anniversary on the local date of the signup', () => {
    // Signed up at 20:00 PDT on 15 March 2025 (03:00 UTC on the 16th).
    const view = living('America/Los_Angeles', {
      signedUpAtMs: Date.parse('2025-03-16T03:00:00.000Z'),
    });
    const sweptAt = Date.parse('2026-03-15T06:01:00.000Z');
    const p = proposal(celebrationAgent(view, { kind: 'anniversary', years: 1 }, anEnv(), sweptAt));
    expect(p.scheduledForMs).toBe(Date.parse('2026-03-15T15:00:00.000Z')); // 08:00 PDT
    expect(p.reasons).toContain('1 year(s) since signup, on 2026-03-15 in America/Los_Angeles');
  });

  // A Tokyo customer who reads their mail at 10:00 JST (01:00 UTC) on weekdays, greeted by the
  // 06:00 UTC sweep of the day before their birthday (15:00 JST on the 14th), for the 15th.
  const tokyo = (timezone = 'Asia/Tokyo') => {
    const byHourOfWeek: Record<string, number> = {};
    for (const d of ['05', '06', '07', '08', '09'])
      byHourOfWeek[String(hourOfWeek(Date.parse(`2026-01-${d}T01:00:00Z`)))] = 3;
    return aView({
      state: aState({
        traits: { email: 'c1@example.com', birthday: '1990-01-15' },
        location: { country: null, region: null, city: null, timezone },
        responses: { byChannel: { email: 15 }, byHourOfWeek },
      }),
    });
  };
  const sweptAt = Date.parse('2026-01-14T06:00:00.000Z');

  it('moves a greeting to the best hour of the birthday, never past its end', () => {
    const p = proposal(celebrationAgent(tokyo(), { kind: 'birthday' }, anEnv(), sweptAt));
    // 10:00 JST on the 15th.
    expect(p.scheduledForMs).toBe(Date.parse('2026-01-15T01:00:00.000Z'));
    // Decided on the 15th itself (15:00 JST), only 15:00–21:00 JST is left to choose from.
    const late = Date.parse('2026-01-15T06:00:00.000Z');
    const q = proposal(celebrationAgent(tokyo(), { kind: 'birthday' }, anEnv(), late));
    expect(q.scheduledForMs).toBeGreaterThanOrEqual(late);
    expect(q.scheduledForMs).toBeLessThan(Date.parse('2026-01-15T12:00:00.000Z'));
    expect(q.reasons).toContain(
      'send time: not moved past 2026-01-15T14:59:59.999Z (the end of the birthday 2026-01-15 in Asia/Tokyo)',
    );
    // In UTC, the birthday ends before the morning of the 16th too.
    const utc = proposal(celebrationAgent(tokyo('UTC'), { kind: 'birthday' }, anEnv(), late));
    expect(utc.scheduledForMs).toBeLessThan(Date.parse('2026-01-16T00:00:00.000Z'));
  });

  it('still moves a greeting to the best hour within the day', () => {
    // Best at 01:00 UTC: a sweep running at 00:30 UTC on the birthday may wait for it.
    const early = Date.parse('2026-01-15T00:30:00.000Z');
    const env = anEnv({
      policy: withPolicy({ quietHours: { ...quiet, startHour: 0, endHour: 0 } }),
    });
    const p = proposal(celebrationAgent(tokyo('UTC'), { kind: 'birthday' }, env, early));
    expect(p.scheduledForMs).toBe(Date.parse('2026-01-15T01:00:00.000Z'));
  });

  it('does not move a greeting whose day it no longer finds', () => {
    const view = tokyo('UTC');
    const moved = { ...view, state: { ...view.state, traits: { email: 'c1@example.com' } } };
    const env = anEnv({
      policy: withPolicy({ quietHours: { ...quiet, startHour: 0, endHour: 0 } }),
    });
    const early = Date.parse('2026-01-15T00:30:00.000Z');
    expect(proposal(celebrationAgent(view, { kind: 'birthday' }, env, early)).scheduledForMs).toBe(
      Date.parse('2026-01-15T01:00:00.000Z'),
    );
    const p = proposal(celebrationAgent(moved, { kind: 'birthday' }, env, early));
    expect(p.scheduledForMs).toBe(early);
  });

  it('reads the birthday of a customer placed by their phone in the phone’s zone', () => {
    const view = aView({
      state: aState({
        traits: { email: 'ken@example.com', phone: '+81 90 1234 5678', birthday: '1990-06-15' },
      }),
    });
    // Swept the day before (15:00 in Tokyo on the 14th): 08:00 on the 15th in Tokyo, not 08:00
    // on the 16th there (the UTC 15th, held by Tokyo's quiet hours).
    const p = proposal(
      celebrationAgent(view, { kind: 'birthday' }, anEnv(), Date.parse('2026-06-14T06:00:00Z')),
    );
    expect(p.scheduledForMs).toBe(Date.parse('2026-06-14T23:00:00.000Z'));
    expect(p.reasons).toContain('birthday, on 2026-06-15 in Asia/Tokyo');
  });

  it('counts the years of a signup anniversary', () => {
    const p = proposal(celebrationAgent(aView(), { kind: 'anniversary', years: 2 }, anEnv(), t0));
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

  it('sends a transactional message at once: no quiet hours, no best hour', () => {
    const shipped = { kind: 'custom-event', name: 'Order Shipped', properties: {} } as const;
    const rules = withPolicy({
      customEvents: [{ event: 'Order Shipped', template: 'shipping', channels: ['email'] }],
    });
    // 23:00 in Berlin, inside its quiet hours (21:00–08:00), and a customer who reads at 16:00.
    const night = Date.parse('2026-01-15T22:00:00.000Z');
    const byHourOfWeek = { [String(hourOfWeek(Date.parse('2026-01-16T15:00:00Z')))]: 20 };
    const view = aView({
      state: aState({
        consent: consentOf(['email']),
        location: { country: 'DE', region: null, city: null, timezone: 'Europe/Berlin' },
        responses: { byChannel: { email: 20 }, byHourOfWeek },
      }),
    });
    const notice = proposal(
      customEventAgent(
        view,
        shipped,
        anEnv({ policy: rules, transactionalTemplates: new Set(['shipping']) }),
        night,
      ),
    );
    expect(notice.scheduledForMs).toBe(night);
    expect(notice.reasons).toContain('transactional (template shipping): sent at once');
    // The same rule with a marketing template is held to the best hour after the quiet ones.
    const promo = proposal(customEventAgent(view, shipped, anEnv({ policy: rules }), night));
    expect(promo.scheduledForMs).toBe(Date.parse('2026-01-16T15:00:00.000Z'));
  });
});
