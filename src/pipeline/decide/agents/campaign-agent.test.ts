import { describe, expect, it } from 'vitest';
import type { Campaign } from '../../../core/decision.js';
import { HOUR_MS } from '../../../core/time.js';
import { aState, aView, anEnv, t0 } from '../test-builders.js';
import { campaignAgent } from './campaign-agent.js';

/** t0 is Thursday 12:00 UTC: hour of week 3 × 24 + 12 (0 = Monday 00:00 UTC). */
const t0Slot = 3 * 24 + 12;

// A customer who answers at 18:00 UTC, six hours after the campaign goes.
const evening = aView({
  state: aState({
    consent: { email: { marketing: { granted: true, atMs: t0 - 24 * HOUR_MS, source: 'form' } } },
    responses: { byChannel: { email: 10 }, byHourOfWeek: { [String(t0Slot + 6)]: 6 } },
  }),
});

const campaign = (copyValidUntilMs?: number): Campaign => ({
  id: 'sale',
  template: 'upsell',
  channels: ['email'],
  segment: null,
  incentive: null,
  sendAtMs: t0,
  variantIds: ['v1', 'v2'],
  ...(copyValidUntilMs === undefined ? {} : { copyValidUntilMs }),
});

const scheduledFor = (c: Campaign): number => {
  const proposal = campaignAgent(evening, { kind: 'campaign', campaign: c }, anEnv(), t0);
  if (typeof proposal === 'string') throw new Error(proposal);
  return proposal.scheduledForMs;
};

describe('campaignAgent', () => {
  it("moves a campaign's message to the customer's best hour", () => {
    expect(scheduledFor(campaign())).toBe(t0 + 6 * HOUR_MS);
  });

  it('never moves it past the moment its copy stops being valid', () => {
    // The copy's source expires at 15:00: an 18:00 send would be blocked as content_expired.
    const validUntil = t0 + 3 * HOUR_MS;
    const at = scheduledFor(campaign(validUntil));
    expect(at).toBeGreaterThanOrEqual(t0);
    expect(at).toBeLessThan(validUntil);
    // A validity past the best hour leaves it there.
    expect(scheduledFor(campaign(t0 + 12 * HOUR_MS))).toBe(t0 + 6 * HOUR_MS);
  });
});
