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
    expect(recipientOf(states.at(-1) as ProfileState, 'push')).toEqual({
      to: 'new',
      platform: 'android',
    });
  });
});
