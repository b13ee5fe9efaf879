import { describe, expect, it } from 'vitest';
import { channels, type ProfileState } from './profile.js';
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
