import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { profilePolicySchema } from './policy.js';
import { defaultPolicy } from './test-builders.js';

describe('profilePolicySchema', () => {
  it('fills every nested default from an empty object', () => {
    const policy: unknown = Value.Default(profilePolicySchema, {});
    expect(Value.Check(profilePolicySchema, policy)).toBe(true);
    expect(policy).toEqual({
      engagement: {
        open: 0.3,
        click: 0.5,
        purchase: 1.0,
        hardBounce: -0.5,
        complaint: -1.0,
        halfLifeDays: 30,
        openEvents: ['Email Opened', 'Push Notification Opened'],
        clickEvents: ['Email Link Clicked', 'Push Notification Tapped', 'SMS Link Clicked'],
        complaintEvents: ['Email Marked as Spam'],
      },
      churn: {
        recencyWeight: 0.4,
        frequencyWeight: 0.2,
        monetaryWeight: -0.1,
        engagementWeight: 0.25,
        recencyCapDays: 90,
        frequencyCap: 10,
        monetaryCap: 1000,
      },
      lifecycle: { newDays: 30, activeDays: 30, churnedDays: 90, atRiskChurnRisk: 0.7 },
      vipLtv: 1000,
      currency: 'USD',
      exchangeRates: {},
      passiveEvents: [
        'Email Sent',
        'Email Delivered',
        'Email Bounced',
        'Email Dropped',
        'Email Marked as Spam',
        'Unsubscribed',
        'Push Notification Received',
        'SMS Sent',
        'SMS Delivered',
        'SMS Undelivered',
        'Push Token Unregistered',
      ],
      signupEvents: ['Signed Up', 'Account Created'],
    });
  });

  it('fills the rest of a section that is partly given', () => {
    const policy = Value.Default(profilePolicySchema, { engagement: { open: 0.4 }, vipLtv: 50 });
    expect(Value.Check(profilePolicySchema, policy)).toBe(true);
    expect(policy).toMatchObject({
      engagement: { open: 0.4, click: 0.5, halfLifeDays: 30 },
      churn: { recencyWeight: 0.4 },
      vipLtv: 50,
    });
  });

  it('hands out defaults that one policy cannot change for the next', () => {
    const first = defaultPolicy();
    first.engagement.openEvents.push('Changed');
    first.passiveEvents.length = 0;
    const second = defaultPolicy();
    expect(second.engagement.openEvents).toEqual(['Email Opened', 'Push Notification Opened']);
    expect(second.passiveEvents).toHaveLength(11);
  });

  it('rejects a half-life of zero', () => {
    const policy = Value.Default(profilePolicySchema, { engagement: { halfLifeDays: 0 } });
    expect(Value.Check(profilePolicySchema, policy)).toBe(false);
  });
});
