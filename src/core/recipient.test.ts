import { describe, expect, it } from 'vitest';
import { channels, type ConsentEntry, type ProfileState } from './profile.js';
import { hasRecipient, recipientOf } from './recipient.js';
import { toCustomerId } from './ids.js';

describe('hasRecipient', () => {
  it('finds someone exactly when recipientOf does, on every channel', () => {
    const base = { customerId: toCustomerId('c1'), traits: {} } as unknown as ProfileState;
    const states: ProfileState[] = [
      base,
      ...['a@example.com', ' A@Example.com ', 'not an address', '', '  ', 'a@b', 42].map(
        (email) => ({ ...base, traits: { email } }),
      ),
      ...['+15555550100', '  ', ''].map((phone) => ({ ...base, traits: { phone } })),
      { ...base, devices: [] },
      {
        ...base,
        devices: [
          { token: 'old', platform: 'ios', seenAtMs: 1 },
          { token: 'new', platform: 'android', seenAtMs: 2 },
        ],
      },
    ];
    for (const state of states)
      for (const channel of channels)
        expect(hasRecipient(state, channel), `${channel} ${JSON.stringify(state.traits)}`).toBe(
          recipientOf(state, channel) !== null,
        );
    // Typed with a comma or a semicolon, or in display-name form: no address to send to.
    for (const email of ['john,smith@gmail.com', 'a@x.com;b@y.com', '"A" <a@x.com>', 'a(b)@x.com'])
      expect(recipientOf({ ...base, traits: { email } }, 'email'), email).toBeNull();
    expect(recipientOf({ ...base, traits: { email: 'o.brien+tag@x.co.uk' } }, 'email')).toEqual({
      to: 'o.brien+tag@x.co.uk',
    });
    expect(recipientOf(states.at(-1) as ProfileState, 'push')).toEqual({
      to: 'new',
      platform: 'android',
    });
  });
});

describe('recipientOf a number a provider refused', () => {
  const failedAtMs = 1_000;
  const refused = (sms: Record<string, ConsentEntry>): ProfileState =>
    ({
      customerId: toCustomerId('c1'),
      traits: { phone: '+1 415 555 0142' },
      consent: { sms },
      unreachable: { sms: { to: '+14155550142', atMs: failedAtMs } },
    }) as unknown as ProfileState;
  const reply = (atMs: number, granted = true): ConsentEntry => ({
    granted,
    atMs,
    source: 'sms-reply',
    explicit: true,
  });
  const traits = (atMs: number): ConsentEntry => ({ granted: true, atMs, source: 'identify' });

  it('finds none until the number itself opts in again after the refusal', () => {
    expect(recipientOf(refused({ marketing: traits(500) }), 'sms')).toBeNull();
    expect(recipientOf(refused({ marketing: traits(2_000) }), 'sms')).toBeNull();
    expect(recipientOf(refused({ marketing: reply(500) }), 'sms')).toBeNull();
    expect(recipientOf(refused({ marketing: reply(2_000) }), 'sms')).toEqual({
      to: '+14155550142',
    });
  });

  it('takes a START that opened the channel’s texts, without marketing consent, as the opt-in', () => {
    const state = refused({ marketing: traits(500), transactional: reply(2_000) });
    expect(recipientOf(state, 'sms')).toEqual({ to: '+14155550142' });
    expect(hasRecipient(state, 'sms')).toBe(true);
    // WhatsApp's refusal is not lifted by an SMS reply about SMS.
    expect(
      recipientOf(
        { ...state, unreachable: { whatsapp: { to: '+14155550142', atMs: failedAtMs } } },
        'whatsapp',
      ),
    ).toBeNull();
  });

  it('still finds the START when traits restating consent took its place', () => {
    const state = refused({ marketing: { ...traits(3_000), other: reply(2_000) } });
    expect(recipientOf(state, 'sms')).toEqual({ to: '+14155550142' });
    // A STOP after it is the latest explicit word: the number is shut again.
    expect(recipientOf(refused({ marketing: { ...reply(4_000, false) } }), 'sms')).toBeNull();
  });
});
