import { quietHoursSchema } from '../../core/quiet-hours.js';
import { DAY_MS } from '../../core/time.js';
import { MAX_CODE_VALID_HOURS } from '../../core/decision.js';
import { Type, type Static, type TProperties } from '@sinclair/typebox';
import { channelSchema, journeySchema } from './journeys/journey-schema.js';

const num = (value: number, description: string, min = 0) =>
  Type.Number({ minimum: min, default: value, description });
const int = (value: number, description: string, min = 0, max?: number) =>
  Type.Integer({
    minimum: min,
    ...(max === undefined ? {} : { maximum: max }),
    default: value,
    description,
  });
const channelList = (value: string[], description: string) =>
  Type.Array(channelSchema, { default: value, description });

const percent = Type.Number({ exclusiveMinimum: 0, maximum: 100 });
// Any other key — a second bound, a misspelt one — is refused with this text. A config error
// explains a union by its choices' descriptions (a Never alone would read "Never"), hence two.
const notABandKey = Type.Never({
  description: 'absent: a band has `percent` and one bound, `below` or `atMost`',
});
const onlyBandKeys = Type.Union([notABandKey, notABandKey]);
const bandOf = <P extends TProperties>(properties: P) =>
  Type.Object(properties, { additionalProperties: onlyBandKeys });

/** A discount band: up to a bound (exclusive `below` or inclusive `atMost`), or unbounded. */
const band = Type.Union([
  bandOf({
    below: Type.Number({
      exclusiveMinimum: 0,
      description: 'Upper bound (major units, exclusive).',
    }),
    percent,
  }),
  bandOf({
    atMost: Type.Number({
      exclusiveMinimum: 0,
      description: 'Upper bound (major units, inclusive).',
    }),
    percent,
  }),
  bandOf({ percent }),
]);

/** Every number the agents, triggers and scheduler use (`decide:` in the config). */
export const decidePolicySchema = Type.Object(
  {
    staleEventMinutes: int(
      60,
      'Events older than this when they arrive (imports, late replays) update profiles but trigger nothing (at least 1: 0 would leave every event stale).',
      1,
    ),
    confidenceThreshold: Type.Number({
      minimum: 0,
      maximum: 1,
      default: 0.5,
      description:
        'Decisions below this confidence (0 to 1) are recorded as skipped, with the reason, instead of scheduled.',
    }),
    priorities: Type.Object(
      {
        cart: int(90, 'Arbitration priority of the abandoned-cart agent (higher wins).'),
        winBack: int(70, 'Priority of the win-back agent.'),
        journey: int(60, 'Priority of journey steps (campaign orchestration).'),
        lifecycle: int(50, 'Priority of the lifecycle agent.'),
        milestone: int(55, 'Priority of order-milestone messages.'),
        campaign: int(45, 'Priority of one-off campaigns.'),
        custom: int(30, 'Priority of messages for custom events.'),
      },
      { default: {} },
    ),
    cart: Type.Object(
      {
        idleMinutes: int(120, 'A cart unchanged for this long is abandoned.', 1),
        topProducts: int(
          3,
          'Products shown: by margin, then those whose margin is not known by price.',
          1,
        ),
        incentiveBands: Type.Array(band, {
          minItems: 1,
          default: [{ below: 100, percent: 25 }, { atMost: 500, percent: 20 }, { percent: 15 }],
          description:
            'Discount (`percent`) by cart value: the first band whose bound takes the value, `below` (exclusive) or `atMost` (inclusive), one per band; the last band has no bound. By default under 100 → 25 %, 100–500 → 20 %, above 500 → 15 %.',
        }),
        codeValidHours: int(48, 'Hours a cart-recovery code stays valid.', 1, MAX_CODE_VALID_HOURS),
        recoveryWindowDays: int(7, 'An order within this many days counts as a recovered cart.', 1),
        template: Type.String({
          default: 'cart-recovery',
          description: 'Template of the message.',
        }),
      },
      { default: {} },
    ),
    winBack: Type.Object(
      {
        dormantDays: int(90, 'Days without activity after which the dormant path starts.', 1),
        inactiveDays: int(30, 'Days without activity that raise an inactivity trigger.', 1),
        conciergeLtv: num(
          1000,
          'LTV above which a person reaches out instead of an automated offer.',
        ),
        discountLtv: num(300, 'LTV from which the discount and new-products tier applies.'),
        discountPercent: Type.Number({
          ...percent,
          default: 20,
          description: 'Discount of the middle tier (percent, above 0, at most 100).',
        }),
        genericPercent: Type.Number({
          ...percent,
          default: 10,
          description:
            'Discount of the generic offer, the lowest tier (percent, above 0, at most 100).',
        }),
        codeValidHours: int(168, 'Hours a win-back code stays valid.', 1, MAX_CODE_VALID_HOURS),
        webSlot: Type.String({
          minLength: 1,
          default: 'homepage-hero',
          description:
            'Website slot the web (retargeting) wave is shown in, as a journey `web` step names one.',
        }),
        webTtlHours: int(
          168,
          "Hours the web wave stays in its slot (never past its code's expiry).",
          1,
        ),
        waves: Type.Array(
          Type.Object({ day: Type.Integer({ minimum: 0 }), channel: channelSchema }),
          {
            default: [
              { day: 1, channel: 'email' },
              { day: 3, channel: 'sms' },
              { day: 7, channel: 'web' },
              { day: 14, channel: 'email' },
            ],
            description:
              'Waves of the dormant path by day since it started; a customer who became active again gets no further wave (the day-14 wave is the follow-up of non-responders).',
          },
        ),
      },
      { default: {} },
    ),
    milestones: Type.Array(Type.Integer({ minimum: 1 }), {
      default: [1, 5, 10, 25, 50, 100],
      description: 'Order counts that raise an order-milestone trigger.',
    }),
    customEvents: Type.Array(
      Type.Object({
        event: Type.String({ minLength: 1 }),
        template: Type.String({ minLength: 1 }),
        channels: channelList(['email'], 'Channels in order of preference.'),
      }),
      { default: [], description: 'Track events that trigger a message of their own.' },
    ),
    segments: Type.Object(
      {
        highValueMonetary: num(500, 'High-Value Recent: net revenue at least this (major units)…'),
        recentDays: int(30, '…and last order within this many days.'),
        newDays: int(30, 'New: first seen within this many days and at most one order.'),
        atRiskDays: int(60, 'At-Risk: last activity between this many days…'),
        dormantDays: int(90, '…and this many days; Dormant beyond.'),
      },
      { default: {} },
    ),
    quietHours: quietHoursSchema,
    sendTime: Type.Object(
      {
        enabled: Type.Boolean({ default: true }),
        maxDelayHours: int(24, "How far a send may move toward the customer's best hour."),
        priorWeight: num(
          5,
          "Pseudo-responses of the population histogram added to each customer's own (smoothing).",
        ),
        minResponses: int(3, 'Below this many own responses the send is not moved.'),
      },
      { default: {} },
    ),
    birthdays: Type.Boolean({
      default: true,
      description:
        'Raise birthday (trait `birthday`) and signup-anniversary triggers in the daily sweep.',
    }),
    sweepHourUtc: Type.Integer({
      minimum: 0,
      maximum: 23,
      default: 6,
      description: 'Hour of the daily sweep.',
    }),
    worker: Type.Object(
      {
        batchSize: int(2000, 'Due work items claimed per transaction.', 1),
        pollMs: int(1000, 'How often an idle worker looks for due work.', 10),
      },
      { default: {} },
    ),
    journeys: Type.Optional(
      Type.Array(journeySchema, {
        description:
          'Journeys (format in docs/journeys.md); when absent, the default welcome and cart-recovery journeys run. Listing them replaces the defaults.',
      }),
    ),
  },
  { default: {} },
);

export type DecidePolicy = Static<typeof decidePolicySchema>;

/** How long after a cart message an order counts as its cart recovered. */
export const cartRecoveryWindowMs = (policy: Pick<DecidePolicy, 'cart'>): number =>
  policy.cart.recoveryWindowDays * DAY_MS;
