import { describe, expect, it } from 'vitest';
import type { GuardContext, GuardMessage } from '../guard-types.js';
import { aContext, aMessage, defaultGuardPolicy, notPassing } from '../test-builders.js';
import { reputationGuardrail } from './reputation.js';

const policy = defaultGuardPolicy();

const domain = (sent: number, bounced: number, complained: number): Partial<GuardContext> => ({
  sendingDomain: { domain: 'news.shop.example.com', sent, bounced, complained },
});

const codes = (context: Partial<GuardContext>, message: Partial<GuardMessage> = {}) =>
  notPassing(reputationGuardrail.check(aMessage(message), aContext(context), policy));

describe('reputationGuardrail', () => {
  it('pauses marketing email from exactly a 5 % bounce rate', () => {
    expect(codes(domain(1000, 49, 0))).toEqual([]);
    expect(codes(domain(1000, 50, 0))).toEqual(['block:domain_paused']);
    expect(codes(domain(100, 5, 0))).toEqual(['block:domain_paused']);
  });

  it('pauses marketing email from exactly a 0.3 % complaint rate', () => {
    expect(codes(domain(1000, 0, 2))).toEqual([]);
    expect(codes(domain(1000, 0, 3))).toEqual(['block:domain_paused']);
  });

  it('reports both limits when both are reached', () => {
    const [bounce, complaint] = reputationGuardrail.check(
      aMessage(),
      aContext(domain(1000, 60, 4)),
      policy,
    );
    expect(bounce?.figures).toMatchObject({ limit: 'bounce', bounceRate: 0.06, sent: 1000 });
    expect(complaint?.figures).toMatchObject({ limit: 'complaint', complaintRate: 0.004 });
  });

  it('does not judge a domain with fewer than minSent messages, but shows the figures', () => {
    const [v] = reputationGuardrail.check(aMessage(), aContext(domain(99, 50, 10)), policy);
    expect(v).toMatchObject({ outcome: 'pass', figures: { sent: 99, bounced: 50 } });
    expect(codes(domain(100, 50, 10))).toEqual(['block:domain_paused', 'block:domain_paused']);
    expect(codes({ sendingDomain: null })).toEqual([]);
  });

  it('lets transactional email and other channels go from a paused domain', () => {
    const bad = domain(1000, 100, 10);
    expect(codes(bad, { class: 'transactional' })).toEqual([]);
    expect(codes(bad, { channel: 'sms', template: 't' })).toEqual([]);
  });

  it('follows the configured limits', () => {
    const strict = { ...policy, reputation: { ...policy.reputation, maxBounceRate: 0.02 } };
    const v = reputationGuardrail.check(aMessage(), aContext(domain(1000, 20, 0)), strict);
    expect(notPassing(v)).toEqual(['block:domain_paused']);
  });
});
