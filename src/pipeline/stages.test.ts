import { describe, expect, it } from 'vitest';
import type { HeraldEvent } from '../core/event.js';
import type { ProfileChange, ProfileState } from '../core/profile.js';
import { HOUR_MS } from '../core/time.js';
import {
  aProfile,
  aTrack,
  anIdentify,
  applyAll,
  defaultPolicy,
  t0,
} from './profile/test-builders.js';
import { deriveComputed } from './profile/index.js';
import { addressBouncesIn } from './stages.js';

const policy = defaultPolicy();
const hour = (n: number): number => t0 + n * HOUR_MS;
const bounce = (hours: number): HeraldEvent =>
  aTrack('Email Bounced', { bounce_type: 'hard' }, { timestampMs: hour(hours) });

/** The change one batch of events makes to a profile, as the profile stage hands it on. */
const changeOf = (before: ProfileState | null, events: HeraldEvent[]): ProfileChange => {
  const after = applyAll(events, policy, before ?? aProfile());
  return {
    customerId: after.customerId,
    before,
    after,
    afterComputed: deriveComputed(after, hour(100), policy),
    events,
    newOrders: [],
  };
};

describe('addressBouncesIn', () => {
  const holdingNew = applyAll([
    anIdentify({ email: 'new@example.com' }, { timestampMs: hour(10) }),
  ]);

  it('files a bounce under the address the record had when it bounced', () => {
    const typo = changeOf(null, [
      anIdentify({ email: 'kim@exmaple.com' }, { timestampMs: hour(1) }),
      bounce(2),
      bounce(3),
      anIdentify({ email: 'kim@example.com' }, { timestampMs: hour(4) }),
      bounce(5),
    ]);
    expect(addressBouncesIn([typo])).toEqual([
      { address: 'kim@exmaple.com', count: 2, atMs: hour(3) },
      { address: 'kim@example.com', count: 1, atMs: hour(5) },
    ]);
  });

  it('takes no address from an identify older than the one the record holds', () => {
    // Arriving late (queued offline, backfilled), it does not change the profile's address.
    const late = changeOf(holdingNew, [
      anIdentify({ email: 'old@example.com' }, { timestampMs: hour(1) }),
      bounce(15),
    ]);
    expect(late.after.traits['email']).toBe('new@example.com');
    expect(addressBouncesIn([late])).toEqual([
      { address: 'new@example.com', count: 1, atMs: hour(15) },
    ]);
  });

  it('dates an identify no later than it was received, as the profile does', () => {
    // Stamped at 12 h by a clock running ahead, received at 5 h: older than new@ (10 h).
    const ahead = changeOf(holdingNew, [
      anIdentify({ email: 'old@example.com' }, { timestampMs: hour(12), receivedAtMs: hour(5) }),
      bounce(15),
    ]);
    expect(ahead.after.traits['email']).toBe('new@example.com');
    expect(addressBouncesIn([ahead]).map((b) => b.address)).toEqual(['new@example.com']);
  });
});
