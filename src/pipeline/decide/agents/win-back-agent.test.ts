import { describe, expect, it } from 'vitest';
import type { Proposal } from '../proposal.js';
import {
  aState,
  aView,
  anEnv,
  consentOf,
  daysMs,
  defaultDecidePolicy,
  hoursMs,
  t0,
  withPolicy,
} from '../test-builders.js';
import { winBackAgent, winBackTier } from './win-back-agent.js';

const policy = defaultDecidePolicy().winBack;
const startedAtMs = t0;
const wave = (n: number) => ({ kind: 'win-back-wave', wave: n, startedAtMs }) as const;

/** A customer dormant for 90 days with this LTV over three orders. */
const dormant = (ltv: number, stateOverrides: Parameters<typeof aState>[0] = {}) =>
  aView({
    state: aState({ lastActiveAtMs: t0 - daysMs(90), ...stateOverrides }),
    computed: { ltv, monetary: ltv, frequency: 3 },
    segment: 'Dormant',
  });

const proposal = (result: Proposal | string): Proposal => {
  if (typeof result === 'string') throw new Error(`expected a proposal, got: ${result}`);
  return result;
};

describe('winBackTier', () => {
  it.each([
    [0, 'generic'],
    [200, 'generic'],
    [299.99, 'generic'],
    [300, 'discount'],
    [600, 'discount'],
    [1000, 'discount'],
    [1000.01, 'concierge'],
    [1500, 'concierge'],
  ])('puts LTV %d in the %s tier', (ltv, tier) => {
    expect(winBackTier(ltv, policy)).toBe(tier);
  });
});

describe('winBackAgent', () => {
  it('offers a generic 10 % by email in the first wave at LTV 200', () => {
    const p = proposal(winBackAgent(dormant(200), wave(0), anEnv(), t0));
    expect(p).toMatchObject({
      agent: 'win-back',
      kind: 'send',
      action: 'win-back-email',
      template: 'win-back-generic',
      channels: ['email'],
      priority: 70,
      details: { tier: 'generic', wave: 0 },
    });
    expect(p.incentive?.percent).toBe(10);
    expect(p.incentive?.code).toMatch(/^MISSYOU10-/);
    expect(p.incentive?.expiresAtMs).toBe(t0 + hoursMs(168));
    expect(p.reasons).toContain('dormant: no activity for 90 days');
    expect(p.reasons).toContain('wave 1 of 4 (day 1, email)');
  });

  it('offers 20 % and new products at LTV 600, worth the average order', () => {
    const p = proposal(winBackAgent(dormant(600), wave(0), anEnv(), t0));
    expect(p.template).toBe('win-back-new-products');
    expect(p.incentive?.percent).toBe(20);
    expect(p.details['tier']).toBe('discount');
    expect(p.confidence).toBeGreaterThan(0);
    // The value at stake is the average order: 600 over 3 orders.
    expect(p.expectedValue).toBeCloseTo(p.confidence * 200, 2);
  });

  it('escalates LTV 1500 to a person in the first wave', () => {
    const p = proposal(winBackAgent(dormant(1500), wave(0), anEnv(), t0));
    expect(p).toMatchObject({
      kind: 'escalate',
      action: 'concierge-outreach',
      channels: [],
      template: null,
      incentive: null,
      confidence: 1,
      expectedValue: 1500,
      scheduledForMs: t0,
      details: { tier: 'concierge', wave: 0, segment: 'Dormant' },
    });
  });

  it('sends no automated wave to the concierge tier after the first', () => {
    for (const n of [1, 2, 3])
      expect(winBackAgent(dormant(1500), wave(n), anEnv(), t0)).toBe(
        'concierge tier: handled by a person after the first wave',
      );
  });

  it('sends no further wave once the customer acted after the path started', () => {
    const acted = dormant(600, { lastActiveAtMs: startedAtMs + daysMs(1) });
    const result = winBackAgent(acted, wave(1), anEnv(), t0 + daysMs(2));
    expect(result).toBe(
      `responded on ${new Date(startedAtMs + daysMs(1)).toISOString()}: the dormant path ends`,
    );
    expect(winBackAgent(dormant(1500, acted.state), wave(0), anEnv(), t0 + daysMs(2))).toMatch(
      /the dormant path ends$/,
    );
  });

  it('ends the path when activity that came late shows they were not dormant when it began', () => {
    // A visit 80 days before the path began, known only now (a second source's import).
    const visited = startedAtMs - daysMs(80);
    const late = dormant(200, { lastActiveAtMs: visited });
    for (const n of [1, 2, 3])
      expect(winBackAgent(late, wave(n), anEnv(), t0 + daysMs(13))).toBe(
        `active on ${new Date(visited).toISOString()}, within 90 days before the path began: not dormant, the dormant path ends`,
      );
  });

  it('counts a customer who never acted as inactive since first seen', () => {
    const never = dormant(200, { lastActiveAtMs: null, firstSeenAtMs: t0 - daysMs(95) });
    const p = proposal(winBackAgent(never, wave(1), anEnv(), t0 + daysMs(2)));
    expect(p.reasons[0]).toBe('dormant: no activity for 97 days');
  });

  it('sends the second wave by SMS to a customer opted in with a phone', () => {
    const view = dormant(200, {
      traits: { email: 'c1@example.com', phone: '+15550100' },
      consent: consentOf(['email', 'sms']),
    });
    const p = proposal(winBackAgent(view, wave(1), anEnv(), t0 + daysMs(2)));
    expect(p.action).toBe('win-back-sms');
    expect(p.channels).toEqual(['sms']);
  });

  it('has no channel for the SMS wave without an SMS opt-in', () => {
    const p = proposal(winBackAgent(dormant(200), wave(1), anEnv(), t0 + daysMs(2)));
    expect(p.channels).toEqual([]);
    expect(p.reasons).toContain('no channel the customer can receive');
  });

  it('shows the web wave at once, even inside quiet hours', () => {
    const lateEvening = Date.parse('2026-01-21T23:00:00.000Z');
    const p = proposal(winBackAgent(dormant(200), wave(2), anEnv(), lateEvening));
    expect(p.action).toBe('win-back-web');
    expect(p.channels).toEqual(['web']);
    expect(p.scheduledForMs).toBe(lateEvening);
  });

  it('puts the web wave in a slot, as a journey web step, for webTtlHours', () => {
    const p = proposal(winBackAgent(dormant(200), wave(2), anEnv(), t0 + daysMs(6)));
    expect(p.details).toMatchObject({
      tier: 'generic',
      wave: 2,
      slot: 'homepage-hero',
      content: 'win-back-generic',
      expiresAt: new Date(t0 + daysMs(6) + hoursMs(168)).toISOString(),
    });
    expect(p.reasons).toContain(
      `in slot homepage-hero until ${new Date(t0 + daysMs(6) + hoursMs(168)).toISOString()}`,
    );
    // Waves on other channels name no slot.
    const email = proposal(winBackAgent(dormant(200), wave(0), anEnv(), t0));
    expect(email.details['slot']).toBeUndefined();
    expect(email.details['expiresAt']).toBeUndefined();
  });

  it('takes the web wave out of its slot when its code expires, if that comes first', () => {
    const env = anEnv({
      policy: withPolicy({
        winBack: { ...policy, webSlot: 'account-banner', webTtlHours: 500, codeValidHours: 72 },
      }),
    });
    const p = proposal(winBackAgent(dormant(600), wave(2), env, t0));
    expect(p.details).toMatchObject({
      slot: 'account-banner',
      content: 'win-back-new-products',
      expiresAt: new Date(t0 + hoursMs(72)).toISOString(),
    });
    expect(p.incentive?.expiresAtMs).toBe(t0 + hoursMs(72));
  });

  it('makes the last wave the follow-up of non-responders', () => {
    const p = proposal(winBackAgent(dormant(200), wave(3), anEnv(), t0 + daysMs(13)));
    expect(p.action).toBe('win-back-follow-up');
    expect(p.channels).toEqual(['email']);
  });

  it('knows no wave beyond the schedule', () => {
    expect(winBackAgent(dormant(200), wave(9), anEnv(), t0)).toBe('no wave 9');
  });
});
