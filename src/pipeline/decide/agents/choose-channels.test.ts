import { describe, expect, it } from 'vitest';
import type { Channel, ProfileState } from '../../../core/profile.js';
import { aState, consentOf, t0 } from '../test-builders.js';
import { chooseChannels as chooseWithLimit } from './choose-channels.js';

const all: Channel[] = ['email', 'sms', 'whatsapp', 'push', 'web'];
const withPhone = { email: 'c1@example.com', phone: '+15550100' };
// Within the guard's defaults: 3 hard bounces, two implied consent sources.
const limits = { emailBounceLimit: 3, impliedConsentSources: ['implied', 'import:implied'] };
const chooseChannels = (state: ProfileState, wanted: Channel[]) =>
  chooseWithLimit(state, wanted, limits);

describe('chooseChannels', () => {
  it('keeps an opted-in email with full reach', () => {
    expect(chooseChannels(aState(), ['email'])).toEqual({
      channels: ['email'],
      reach: 1,
      reasons: ['email: opted in'],
    });
  });

  it('keeps email without a recorded opt-in, with lower reach', () => {
    const choice = chooseChannels(aState({ consent: {} }), ['email']);
    expect(choice.channels).toEqual(['email']);
    expect(choice.reach).toBe(0.8);
    expect(choice.reasons).toEqual(['email: no explicit opt-in recorded']);
  });

  it('drops a channel whose marketing the customer stopped in the provider’s app, until an opt-in after', () => {
    const stopped = aState({
      traits: withPhone,
      consent: consentOf(['whatsapp', 'email']),
      marketingStops: { whatsapp: t0 + 1000 },
    });
    const choice = chooseChannels(stopped, ['whatsapp', 'email']);
    expect(choice.channels).toEqual(['email']);
    expect(choice.reasons).toContain('whatsapp: marketing stopped in whatsapp itself');
    const again = aState({
      traits: withPhone,
      consent: {
        ...consentOf(['email']),
        whatsapp: { marketing: { granted: true, atMs: t0 + 2000, source: 'form', explicit: true } },
      },
      marketingStops: { whatsapp: t0 + 1000 },
    });
    expect(chooseChannels(again, ['whatsapp', 'email']).channels[0]).toBe('whatsapp');
  });

  it('drops channels the customer opted out of', () => {
    const state = aState({ traits: withPhone, consent: consentOf(['sms'], ['email', 'push']) });
    const choice = chooseChannels(state, ['email', 'push', 'sms']);
    expect(choice.channels).toEqual(['sms']);
    expect(choice.reasons).toContain('email: opted out');
    expect(choice.reasons).toContain('push: opted out');
  });

  it('drops email without an address or with a bouncing one', () => {
    expect(chooseChannels(aState({ traits: { email: '  ' } }), ['email']).reasons).toEqual([
      'email: no address',
    ]);
    const bouncing = aState({ email: { hardBounces: 3, complaints: 0, lastBounceAtMs: null } });
    expect(chooseChannels(bouncing, ['email'])).toEqual({
      channels: [],
      reach: 0,
      reasons: ['email: address bounces'],
    });
    const twice = aState({ email: { hardBounces: 2, complaints: 0, lastBounceAtMs: null } });
    expect(chooseChannels(twice, ['email']).channels).toEqual(['email']);
  });

  it('takes a text grant from an implied source for no opt-in, as the guard does', () => {
    const implied = { granted: true, atMs: 0, source: ' Import:Implied ' };
    const state = aState({
      traits: withPhone,
      consent: { sms: { marketing: implied }, whatsapp: { marketing: implied } },
    });
    expect(chooseChannels(state, ['sms', 'whatsapp'])).toEqual({
      channels: [],
      reach: 0,
      reasons: [
        'sms: consent from an implied source is no opt-in',
        'whatsapp: consent from an implied source is no opt-in',
      ],
    });
    const withEmail = aState({ traits: withPhone, consent: { sms: { marketing: implied } } });
    expect(chooseChannels(withEmail, ['sms', 'email'])).toMatchObject({
      channels: ['email'],
      reach: 0.8,
    });
    // Restated from an implied source beside the customer's own explicit grant: theirs.
    const own = { granted: true, atMs: 0, source: 'Consent Updated', explicit: true as const };
    const restated = aState({
      traits: withPhone,
      consent: { sms: { marketing: { ...implied, atMs: 1, other: own } } },
    });
    expect(chooseChannels(restated, ['sms'])).toMatchObject({ channels: ['sms'], reach: 1 });
  });

  it("counts the bounces against the guard's limit, as configured", () => {
    const thrice = aState({ email: { hardBounces: 3, complaints: 0, lastBounceAtMs: null } });
    expect(chooseWithLimit(thrice, ['email'], { ...limits, emailBounceLimit: 5 }).channels).toEqual(
      ['email'],
    );
    const once = aState({ email: { hardBounces: 1, complaints: 0, lastBounceAtMs: null } });
    expect(
      chooseWithLimit(once, ['email', 'sms'], { ...limits, emailBounceLimit: 1 }).reasons,
    ).toContain('email: address bounces');
  });

  it('needs an explicit opt-in and a phone number for SMS and WhatsApp', () => {
    const noOptIn = aState({ traits: withPhone, consent: {} });
    expect(chooseChannels(noOptIn, ['sms', 'whatsapp']).reasons).toEqual([
      'sms: no opt-in',
      'whatsapp: no opt-in',
    ]);
    const noPhone = aState({ consent: consentOf(['sms', 'whatsapp']) });
    expect(chooseChannels(noPhone, ['sms', 'whatsapp']).reasons).toEqual([
      'sms: no phone number',
      'whatsapp: no phone number',
    ]);
    const both = aState({ traits: withPhone, consent: consentOf(['sms', 'whatsapp']) });
    expect(chooseChannels(both, ['sms', 'whatsapp'])).toMatchObject({
      channels: ['sms', 'whatsapp'],
      reach: 1,
    });
  });

  it('needs an address the dispatcher can send to: a valid email, a push device', () => {
    const notAnAddress = aState({ traits: { email: 'c1 at example' } });
    expect(chooseChannels(notAnAddress, ['email']).reasons).toEqual(['email: no address']);
    const noDevice = aState({ consent: consentOf(['push']), devices: [] });
    expect(chooseChannels(noDevice, ['push', 'email'])).toMatchObject({
      channels: ['email'],
      reasons: expect.arrayContaining(['push: no device']),
    });
  });

  it('needs an opt-in for push', () => {
    expect(chooseChannels(aState(), ['push']).channels).toEqual([]);
    expect(chooseChannels(aState({ consent: consentOf(['push']) }), ['push']).channels).toEqual([
      'push',
    ]);
  });

  it('can always show web content, with modest reach', () => {
    const nobody = aState({ traits: {}, consent: {} });
    expect(chooseChannels(nobody, all)).toMatchObject({ channels: ['web'], reach: 0.75 });
  });

  it('keeps the wanted order when there are no past responses', () => {
    const state = aState({ traits: withPhone, consent: consentOf(['email', 'sms', 'push']) });
    expect(chooseChannels(state, ['sms', 'email', 'push']).channels).toEqual([
      'sms',
      'email',
      'push',
    ]);
  });

  it('puts the channels the customer responds to most first, ties in the wanted order', () => {
    const state = aState({
      traits: withPhone,
      consent: consentOf(['email', 'sms', 'push']),
      responses: { byChannel: { push: 5, email: 2, sms: 2 }, byHourOfWeek: {} },
    });
    const choice = chooseChannels(state, ['sms', 'email', 'push']);
    expect(choice.channels).toEqual(['push', 'sms', 'email']);
    expect(choice.reasons).toEqual(['push: 5 past responses']);
    const middle = aState({
      traits: withPhone,
      consent: consentOf(['email', 'sms', 'push']),
      responses: { byChannel: { sms: 1, email: 3, push: 2 }, byHourOfWeek: {} },
    });
    expect(chooseChannels(middle, ['sms', 'email', 'push']).channels).toEqual([
      'email',
      'push',
      'sms',
    ]);
  });

  it('puts an explicit opt-in before an email without one, when responses tie', () => {
    // Email has no recorded opt-in (reach 0.8); push and SMS are opted in (reach 1).
    const state = aState({ traits: withPhone, consent: consentOf(['sms', 'push']) });
    expect(chooseChannels(state, ['email', 'push', 'sms'])).toEqual({
      channels: ['push', 'sms', 'email'],
      reach: 1,
      reasons: ['push: opted in'],
    });
    // Without any opt-in, web (0.75) comes after email (0.8), whatever the order wanted.
    expect(chooseChannels(aState({ consent: {} }), ['web', 'email']).channels).toEqual([
      'email',
      'web',
    ]);
  });

  it('orders by past responses before reach', () => {
    const state = aState({
      traits: withPhone,
      consent: consentOf(['sms']),
      responses: { byChannel: { email: 4, sms: 1 }, byHourOfWeek: {} },
    });
    expect(chooseChannels(state, ['sms', 'email'])).toMatchObject({
      channels: ['email', 'sms'],
      reach: 0.8,
      reasons: ['email: 4 past responses'],
    });
  });

  it('reports the reach of the channel that comes first', () => {
    const state = aState({
      consent: {},
      responses: { byChannel: { web: 9 }, byHourOfWeek: {} },
    });
    expect(chooseChannels(state, ['email', 'web'])).toMatchObject({
      channels: ['web', 'email'],
      reach: 0.75,
    });
  });

  it('has no channel and no reach when nothing is usable', () => {
    const choice = chooseChannels(aState({ consent: consentOf([], ['email']) }), ['email', 'push']);
    expect(choice).toEqual({
      channels: [],
      reach: 0,
      reasons: ['email: opted out', 'push: no opt-in'],
    });
  });
});
