import { Type, type Static } from '@sinclair/typebox';

// A provider's limits refuse a key they do not have: a misspelt `perSecnd` would otherwise
// leave the provider with no limit at all.
const limits = Type.Object(
  {
    perSecond: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    perHour: Type.Optional(Type.Number({ minimum: 1 })),
  },
  { additionalProperties: false },
);

/** How the dispatcher claims, sends, retries and limits (`deliver:` in the config). */
// The providers a rate limit may name: another name (a typo) would limit nothing.
const PROVIDER_NAMES = '^(smtp|sendgrid|twilio|whatsapp|fcm|capture)$';

export const deliverPolicySchema = Type.Object(
  {
    batchSize: Type.Integer({
      minimum: 1,
      default: 500,
      description: 'Outbox rows claimed per round.',
    }),
    concurrency: Type.Integer({
      minimum: 1,
      default: 32,
      description: 'Messages in flight at once per dispatcher process.',
    }),
    leaseSeconds: Type.Number({
      exclusiveMinimum: 0,
      default: 300,
      description:
        'A claimed message is claimed again after this long if its dispatcher has not written back (it died). Longer than `timeoutSeconds`; a message whose lease would run out during its attempt, or within the time kept after it for writing the outcome back (half of what the lease holds beyond an attempt, at most 30 s), goes back to the outbox unsent.',
    }),
    pollMs: Type.Integer({ minimum: 10, default: 250, description: 'Idle polling interval.' }),
    timeoutSeconds: Type.Number({
      exclusiveMinimum: 0,
      default: 15,
      description: 'One attempt at a provider gives up after this long (a retry).',
    }),
    recheckAfterSeconds: Type.Number({
      minimum: 0,
      default: 1,
      description:
        'An attempt that starts this long after its batch was claimed (a slow provider, a long batch) first reads the message and the customer again, so an unsubscribe or an erasure meanwhile is heard; sooner, the profile read at the claim is fresh enough.',
    }),
    maxLatenessHours: Type.Number({
      exclusiveMinimum: 0,
      default: 24,
      description:
        "A marketing message (not web) due longer ago than this when a dispatcher gets to it — after an outage, a backlog or its retries — is not sent (`stale`): a cart reminder or a sale days late says the wrong thing. Counted from when it was due: its send time as recorded (a chosen send time or a quiet-hours hold included) or as a reviewer's approval set it; retries do not move it. Transactional messages always go — unless a provider's rate limit has held one back for longer than this, counted from the limit's first answer to it (its attempts are not spent meanwhile): then it is dead-lettered (`retries_exhausted`).",
    }),
    maxAttempts: Type.Integer({
      minimum: 1,
      default: 8,
      description: 'Attempts before a message that keeps failing transiently is dead-lettered.',
    }),
    backoff: Type.Object(
      {
        baseSeconds: Type.Number({ exclusiveMinimum: 0, default: 30 }),
        maxSeconds: Type.Number({ exclusiveMinimum: 0, default: 3600 }),
      },
      {
        default: {},
        description:
          'Retry n waits base × 2^(n−1), at most max, with jitter (half to all of it); a provider’s Retry-After wins when longer.',
      },
    ),
    circuit: Type.Object(
      {
        failures: Type.Integer({ minimum: 1, default: 10 }),
        cooldownSeconds: Type.Number({ exclusiveMinimum: 0, default: 30 }),
      },
      {
        default: {},
        description:
          'After this many transient failures in a row a provider’s circuit opens: nothing is sent to it for the cooldown, then one message tries it.',
      },
    ),
    attributionWindowDays: Type.Number({
      exclusiveMinimum: 0,
      default: 7,
      description:
        'An order is linked to the messages sent to its customer in this many days before it; the last one gets the credit.',
    }),
    rateLimits: Type.Record(Type.String({ pattern: PROVIDER_NAMES }), limits, {
      additionalProperties: false,
      default: {
        smtp: { perSecond: 500, perHour: 100_000 },
        sendgrid: { perSecond: 500, perHour: 100_000 },
        twilio: { perSecond: 100 },
        whatsapp: { perSecond: 80 },
        fcm: { perSecond: 1000 },
      },
      description:
        'Per provider (`smtp`, `sendgrid`, `twilio`, `whatsapp`, `fcm`, `capture`), shared by every dispatcher on the database: messages per second and per hour.',
    }),
  },
  { default: {} },
);

export type DeliverPolicy = Static<typeof deliverPolicySchema>;
