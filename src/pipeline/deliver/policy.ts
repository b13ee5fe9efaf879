import { Type, type Static } from '@sinclair/typebox';

/** A provider's limits: messages a second and an hour (none: no limit of that kind). */
interface Limits {
  perSecond?: number;
  perHour?: number;
}
// A provider's limits as written in the config: a limit left out keeps the provider's default,
// `null` lifts it. They refuse a key they do not have: a misspelt `perSecnd` would otherwise
// leave the provider with no limit at all.
const writtenLimits = Type.Object(
  {
    perSecond: Type.Optional(Type.Union([Type.Number({ exclusiveMinimum: 0 }), Type.Null()])),
    perHour: Type.Optional(Type.Union([Type.Number({ minimum: 1 }), Type.Null()])),
  },
  { additionalProperties: false },
);

/** The providers' default limits, which a provider's entry in the config is written over. */
const DEFAULT_RATE_LIMITS: Readonly<Record<string, Limits>> = {
  smtp: { perSecond: 500, perHour: 100_000 },
  sendgrid: { perSecond: 500, perHour: 100_000 },
  twilio: { perSecond: 100 },
  whatsapp: { perSecond: 80 },
  fcm: { perSecond: 1000 },
};

/**
 * The limits a provider has: its defaults with what the config writes over them, a limit
 * written `null` lifted. Before 2026-12-07 an entry replaced the defaults whole, so tightening
 * SendGrid to 100 a second dropped its 100,000 an hour.
 */
export const rateLimitsOf = (
  written: Readonly<Record<string, Static<typeof writtenLimits>>>,
): Record<string, Limits> => {
  const merged: Record<string, Limits> = {};
  for (const provider of new Set([...Object.keys(DEFAULT_RATE_LIMITS), ...Object.keys(written)])) {
    const entry: Record<string, number | null | undefined> = {
      ...DEFAULT_RATE_LIMITS[provider],
      ...written[provider],
    };
    const kept: Limits = {};
    if (typeof entry['perSecond'] === 'number') kept.perSecond = entry['perSecond'];
    if (typeof entry['perHour'] === 'number') kept.perHour = entry['perHour'];
    merged[provider] = kept;
  }
  return merged;
};

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
    rateLimits: Type.Record(Type.String({ pattern: PROVIDER_NAMES }), writtenLimits, {
      additionalProperties: false,
      default: {},
      description:
        'Per provider (`smtp`, `sendgrid`, `twilio`, `whatsapp`, `fcm`, `capture`), shared by every dispatcher on the database: messages per second and per hour. Written over the defaults (smtp and sendgrid 500/s and 100,000/h, twilio 100/s, whatsapp 80/s, fcm 1,000/s): a limit left out keeps its default, `null` lifts it.',
    }),
  },
  { default: {} },
);

/** The deliver policy as the dispatcher reads it: each provider's limits merged (`rateLimitsOf`). */
export type DeliverPolicy = Omit<Static<typeof deliverPolicySchema>, 'rateLimits'> & {
  rateLimits: Record<string, Limits>;
};
