import { Value } from '@sinclair/typebox/value';
import { toCustomerId } from '../../core/ids.js';
import type { ProfileState } from '../../core/profile.js';
import { quietHoursSchema, type QuietHours } from '../../core/quiet-hours.js';
import { DAY_MS, HOUR_MS } from '../../core/time.js';
import type { GuardContext, GuardMessage, MessageContent, Verdict } from './guard-types.js';
import { guardPolicySchema, type GuardPolicy } from './policy.js';

/** The instant tests judge at: Wednesday 2026-06-03, noon UTC (08:00 in New York, EDT). */
export const now = Date.UTC(2026, 5, 3, 12);

/** The guard policy with every default filled in; throws if the defaults leave a gap. */
export const defaultGuardPolicy = (): GuardPolicy => {
  const value = Value.Default(guardPolicySchema, {});
  if (!Value.Check(guardPolicySchema, value))
    throw new Error('guard policy defaults are incomplete');
  return value;
};

export const defaultQuietHours = (): QuietHours => {
  const value = Value.Default(quietHoursSchema, {});
  if (!Value.Check(quietHoursSchema, value)) throw new Error('quiet hours defaults are incomplete');
  return value;
};

export const aProfile = (overrides: Partial<ProfileState> = {}): ProfileState => ({
  customerId: toCustomerId('c1'),
  userId: 'c1',
  anonymousIds: [],
  aliases: [],
  traits: { email: 'c1@example.com', firstName: 'Ada' },
  location: { country: 'US', region: 'NY', city: null, timezone: 'America/New_York' },
  consent: {
    email: { marketing: { granted: true, atMs: now - 10 * DAY_MS, source: 'signup-form' } },
  },
  preferences: {},
  firstSeenAtMs: now - 100 * DAY_MS,
  lastSeenAtMs: now,
  signedUpAtMs: now - 100 * DAY_MS,
  lastActiveAtMs: now,
  orders: { count: 1, revenueCents: 5000, refundedCents: 0, firstAtMs: now, lastAtMs: now },
  engagement: { points: 1, asOfMs: now },
  email: { hardBounces: 0, complaints: 0, lastBounceAtMs: null },
  cart: null,
  eventCount: 10,
  ...overrides,
});

export const aContent = (overrides: Partial<MessageContent> = {}): MessageContent => ({
  subject: 'Ada, your first week with us',
  body: 'Hello Ada — see what is new: https://shop.example.com/new',
  from: 'Shop <news@shop.example.com>',
  replyTo: null,
  footerAddress: '1 Main St, Springfield, NY 10001',
  unsubscribeUrl: 'https://shop.example.com/u/abc',
  ...overrides,
});

/** A marketing email written by a person, leaving at 12:00 in New York. */
export const aMessage = (overrides: Partial<GuardMessage> = {}): GuardMessage => ({
  decisionId: 'd1',
  customerId: toCustomerId('c1'),
  agent: 'journey',
  channel: 'email',
  class: 'marketing',
  template: 'welcome-1',
  topic: 'promotions',
  incentive: null,
  content: aContent(),
  generated: false,
  sendAtMs: now + 4 * HOUR_MS,
  campaignId: null,
  ...overrides,
});

export const aContext = (overrides: Partial<GuardContext> = {}): GuardContext => ({
  profile: aProfile(),
  engagementScore: 0.8,
  ltv: 50,
  history: { marketingInWindow: {}, campaignsToday: 0, marketingTotal: 1 },
  quietHours: defaultQuietHours(),
  sendingDomain: null,
  campaignBudget: null,
  moderation: null,
  erasedAtMs: null,
  linkHosts: new Set(['shop.example.com', 'x.example']),
  nowMs: now,
  ...overrides,
});

/** `outcome:code` of every verdict that is not a pass, in order. */
export const notPassing = (verdicts: readonly Verdict[]): string[] =>
  verdicts.filter((v) => v.outcome !== 'pass').map((v) => `${v.outcome}:${v.code}`);
