import { Type, type Static } from '@sinclair/typebox';

const points = (value: number, description: string) => Type.Number({ default: value, description });
const names = (value: string[], description: string) =>
  Type.Array(Type.String({ minLength: 1 }), { default: value, description });

/** Every number the profile rules use; all of it is configuration (`profile:` in the config). */
export const profilePolicySchema = Type.Object(
  {
    engagement: Type.Object(
      {
        open: points(0.3, 'Points for an open (email or push).'),
        click: points(0.5, 'Points for a click.'),
        purchase: points(1.0, 'Points for a completed order.'),
        hardBounce: points(-0.5, 'Points for a hard bounce.'),
        complaint: points(-1.0, 'Points for a spam complaint.'),
        halfLifeDays: Type.Number({
          exclusiveMinimum: 0,
          default: 30,
          description: 'Points decay exponentially; a point is worth half after this many days.',
        }),
        openEvents: names(
          ['Email Opened', 'Push Notification Opened'],
          'Events that count as an open.',
        ),
        clickEvents: names(
          ['Email Link Clicked', 'Push Notification Tapped', 'SMS Link Clicked'],
          'Events that count as a click.',
        ),
        complaintEvents: names(
          ['Email Marked as Spam'],
          'Events that count as a spam complaint (withdrawing email marketing consent); Herald’s own Email Marked as Spam always does, listed or not.',
        ),
      },
      { default: {} },
    ),
    churn: Type.Object(
      {
        recencyWeight: points(0.4, 'Weight of days since last activity (more days, more risk).'),
        frequencyWeight: points(0.2, 'Weight of few orders (fewer orders, more risk).'),
        monetaryWeight: points(-0.1, 'Weight of revenue (negative: revenue lowers risk).'),
        engagementWeight: points(0.25, 'Weight of low engagement (lower score, more risk).'),
        recencyCapDays: Type.Number({
          exclusiveMinimum: 0,
          default: 90,
          description: 'Days of inactivity at which the recency term reaches 1.',
        }),
        frequencyCap: Type.Number({
          exclusiveMinimum: 0,
          default: 10,
          description: 'Order count at which the frequency term reaches 1.',
        }),
        monetaryCap: Type.Number({
          exclusiveMinimum: 0,
          default: 1000,
          description: 'Net revenue (major units) at which the monetary term reaches 1.',
        }),
      },
      { default: {} },
    ),
    lifecycle: Type.Object(
      {
        newDays: Type.Number({
          minimum: 0,
          default: 30,
          description: 'A customer is new for this many days after signup.',
        }),
        activeDays: Type.Number({
          minimum: 0,
          default: 30,
          description: 'Active: last activity within this many days.',
        }),
        churnedDays: Type.Number({
          minimum: 0,
          default: 90,
          description: 'Churned: inactive for this many days or more.',
        }),
        atRiskChurnRisk: Type.Number({
          minimum: 0,
          maximum: 1,
          default: 0.7,
          description: 'At-risk as soon as churn risk is above this, however recent the activity.',
        }),
      },
      { default: {} },
    ),
    vipLtv: Type.Number({
      minimum: 0,
      default: 1000,
      description: 'Historical LTV (major units) above which a customer is VIP.',
    }),
    currency: Type.String({
      pattern: '^[A-Z]{3}$',
      default: 'USD',
      description:
        'The currency (ISO 4217 code) revenue, LTV, KPIs and every amount in the configuration are kept in. An order stating no `currency` is taken to be in it.',
    }),
    exchangeRates: Type.Record(
      Type.String({ pattern: '^[A-Z]{3}$' }),
      Type.Number({ exclusiveMinimum: 0 }),
      {
        default: {},
        // A key that is no code (`euro`) is refused, not left to convert nothing.
        additionalProperties: false,
        description:
          'What one unit of another currency is worth in `profile.currency` (`EUR: 1.08`), for orders that state it. An order in a currency with no rate counts as an order, but not its value.',
      },
    ),
    passiveEvents: names(
      [
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
      'Track events that do not count as customer activity (sent by systems, not the customer).',
    ),
    signupEvents: names(['Signed Up', 'Account Created'], 'Track events that mark the signup.'),
  },
  { default: {} },
);

export type ProfilePolicy = Static<typeof profilePolicySchema> & {
  /**
   * Consent sources that are no explicit act of the customer (the guard's
   * `gdpr.impliedSources`, passed in at load): traits restating a grant under another source
   * state it anew only when that source is explicit and the one held is not. Absent: the
   * guard's defaults.
   */
  impliedConsentSources?: readonly string[];
  /**
   * The zone of a customer with none of their own, state or country (the decide stage's
   * `quietHours.defaultTimezone`, passed in at load): their responses are counted by local hour
   * in it. Absent: UTC.
   */
  defaultTimezone?: string;
};

/** The guard's default `gdpr.impliedSources`, for a policy built without them. */
export const DEFAULT_IMPLIED_CONSENT_SOURCES: readonly string[] = ['implied', 'import:implied'];
