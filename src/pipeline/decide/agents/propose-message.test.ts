import { describe, expect, it } from 'vitest';
import { aState, aView, anEnv, consentOf, t0 } from '../test-builders.js';
import { proposeMessage, toIncentiveCode, type MessageIntent } from './propose-message.js';

const codePattern = /^CART20-[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{12}$/;

const intent = (overrides: Partial<MessageIntent> = {}): MessageIntent => ({
  agent: 'custom',
  trigger: { kind: 'birthday' },
  action: 'say-hello',
  wanted: ['email'],
  template: 'hello',
  baseConfidence: 0.8,
  priority: 40,
  valueAtStake: 50,
  reasons: ['because'],
  atMs: t0,
  optimiseSendTime: false,
  ...overrides,
});

describe('toIncentiveCode', () => {
  it('always gives the same decision the same code', () => {
    expect(toIncentiveCode('CART20', 'decision-1')).toBe(toIncentiveCode('CART20', 'decision-1'));
  });

  it('gives distinct decisions distinct codes', () => {
    const codes = new Set(
      Array.from({ length: 2000 }, (_, i) => toIncentiveCode('CART20', `decision-${i}`)),
    );
    expect(codes.size).toBe(2000);
  });

  it('uses 12 characters of the alphabet without look-alikes after the prefix', () => {
    for (let i = 0; i < 200; i += 1)
      expect(toIncentiveCode('CART20', `d${i}`)).toMatch(codePattern);
  });

  it('uses every letter of the alphabet', () => {
    const letters = new Set(
      Array.from({ length: 500 }, (_, i) => toIncentiveCode('X', `d${i}`).slice(2)).join(''),
    );
    expect(letters.size).toBe(32);
  });

  it('keeps the prefix it was given', () => {
    expect(toIncentiveCode('MISSYOU10', 'd1')).toMatch(/^MISSYOU10-/);
  });
});

describe('proposeMessage', () => {
  it("weighs the expected value by the customer's conversion probability on the channel", () => {
    const view = { ...aView(), conversion: { modelVersion: 7, byChannel: { email: 0.05 } } };
    const weighed = proposeMessage(view, intent(), anEnv());
    expect(weighed.confidence).toBe(0.8);
    expect(weighed.expectedValue).toBe(2);
    expect(weighed.reasons).toContain(
      'conversion probability on email 0.0500 (conversion model v7)',
    );
    // A channel the model has no rate for gets the mean of the customer's others.
    const unknown = {
      ...aView(),
      conversion: { modelVersion: 7, byChannel: { sms: 0.02, push: 0.04 } },
    };
    expect(proposeMessage(unknown, intent(), anEnv()).expectedValue).toBe(1.2);
  });

  it('sends to web only a message that names a slot to show it in', () => {
    // A customer who responds on web most: web would come first.
    const webFan = aView({
      state: aState({ responses: { byChannel: { web: 9, email: 1 }, byHourOfWeek: {} } }),
    });
    const slotless = proposeMessage(webFan, intent({ wanted: ['web', 'email'] }), anEnv());
    expect(slotless.channels).toEqual(['email']);
    expect(slotless.reasons).toContain('web: no slot to show it in');
    const webOnly = proposeMessage(webFan, intent({ wanted: ['web'] }), anEnv());
    expect(webOnly.channels).toEqual([]);
    expect(webOnly.reasons).toContain('no channel the customer can receive');
    const slotted = proposeMessage(
      webFan,
      intent({ wanted: ['web', 'email'], details: { slot: 'homepage-hero' } }),
      anEnv(),
    );
    expect(slotted.channels).toEqual(['web', 'email']);
    expect(slotted.reasons).not.toContain('web: no slot to show it in');
  });

  it('multiplies the agent confidence by the reach of the first channel', () => {
    const optedIn = proposeMessage(aView(), intent(), anEnv());
    expect(optedIn.confidence).toBe(0.8);
    expect(optedIn.expectedValue).toBe(40);
    const noOptIn = proposeMessage(aView({ state: aState({ consent: {} }) }), intent(), anEnv());
    expect(noOptIn.confidence).toBe(0.64);
    expect(noOptIn.expectedValue).toBe(32);
    expect(noOptIn.reasons.at(-1)).toBe('confidence 0.64 = 0.8 (agent) × 0.8 (reach)');
  });

  it('orders the channels and keeps the intent', () => {
    const state = aState({
      consent: consentOf(['email', 'push']),
      responses: { byChannel: { push: 3 }, byHourOfWeek: {} },
    });
    const p = proposeMessage(
      aView({ state, segment: 'New' }),
      intent({
        wanted: ['email', 'push'],
        details: { extra: 1 },
      }),
      anEnv(),
    );
    expect(p).toMatchObject({
      agent: 'custom',
      kind: 'send',
      action: 'say-hello',
      template: 'hello',
      channels: ['push', 'email'],
      priority: 40,
      incentive: null,
      journey: null,
      experiment: null,
      details: { segment: 'New', extra: 1 },
    });
    expect(p.reasons[0]).toBe('because');
  });

  it('says so when no channel can reach the customer', () => {
    const p = proposeMessage(aView(), intent({ wanted: ['sms'] }), anEnv());
    expect(p.channels).toEqual([]);
    expect(p.confidence).toBe(0);
    expect(p.expectedValue).toBe(0);
    expect(p.reasons).toContain('no channel the customer can receive');
  });

  it('holds the message until quiet hours end', () => {
    const night = Date.parse('2026-01-15T23:00:00.000Z');
    const p = proposeMessage(aView(), intent({ atMs: night }), anEnv());
    expect(new Date(p.scheduledForMs).toISOString()).toBe('2026-01-16T08:00:00.000Z');
  });
});

describe('proposeMessage for a transactional template', () => {
  // 23:00 UTC, inside the default quiet hours (21:00–08:00 UTC).
  const night = Date.parse('2026-01-15T23:00:00.000Z');
  const view = aView({ state: aState({ consent: consentOf(['email']) }) });
  const env = anEnv({ transactionalTemplates: new Set(['receipt', 'receipt-b']) });
  const journeyStep = (variants: string[]): MessageIntent =>
    intent({
      agent: 'journey',
      trigger: { kind: 'journey-step', journeyId: 'orders', step: 'receipt' } as never,
      template: 'receipt',
      atMs: night,
      ...(variants.length === 0 ? {} : { experiment: { slot: 'orders/receipt', variants } }),
    });

  it('sends a journey step at once when every variant of it is transactional too', () => {
    expect(proposeMessage(view, journeyStep([]), env).scheduledForMs).toBe(night);
    expect(proposeMessage(view, journeyStep(['receipt', 'receipt-b']), env).scheduledForMs).toBe(
      night,
    );
  });

  it('holds it for quiet hours when a variant is a marketing template or it carries an incentive', () => {
    const morning = Date.parse('2026-01-16T08:00:00.000Z');
    expect(proposeMessage(view, journeyStep(['receipt', 'promo']), env).scheduledForMs).toBe(
      morning,
    );
    const withCode = {
      ...journeyStep([]),
      incentive: { kind: 'percent-off', percent: 10, amount: null, code: 'X', expiresAtMs: night },
    } as MessageIntent;
    expect(proposeMessage(view, withCode, env).scheduledForMs).toBe(morning);
  });
});
