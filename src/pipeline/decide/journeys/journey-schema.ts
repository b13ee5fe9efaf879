import { Type, type Static } from '@sinclair/typebox';
import { MAX_CODE_VALID_HOURS } from '../../../core/decision.js';

export const channelSchema = Type.Union([
  Type.Literal('email'),
  Type.Literal('sms'),
  Type.Literal('whatsapp'),
  Type.Literal('push'),
  Type.Literal('web'),
]);

const stepId = Type.String({ minLength: 1, pattern: '^[a-z0-9][a-z0-9-]*$' });
const next = Type.Optional(
  Type.String({ description: 'Step to go to next (default: the following one).' }),
);

const fieldCondition = Type.Object(
  {
    field: Type.String({
      minLength: 1,
      description:
        'lifecycleStage, segment, frequency, monetary, ltv, recencyDays, engagementScore, churnRisk, vip, country, cartValue (open cart, major units), or trait.NAME',
    }),
    op: Type.Union(['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'in'].map((o) => Type.Literal(o))),
    value: Type.Unknown(),
  },
  { additionalProperties: false },
);
const eventCondition = Type.Object(
  {
    event: Type.String({ minLength: 1, description: 'True when this event arrived since entry.' }),
  },
  { additionalProperties: false },
);
export const conditionSchema = Type.Union([fieldCondition, eventCondition]);

const sendStep = Type.Object(
  {
    id: stepId,
    type: Type.Literal('send'),
    channels: Type.Array(channelSchema, { minItems: 1 }),
    template: Type.String({ minLength: 1 }),
    variants: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        minItems: 2,
        maxItems: 5,
        description:
          'Template variants tested against each other (the first is the control); each customer is assigned one.',
      }),
    ),
    allocation: Type.Optional(
      Type.Union([Type.Literal('equal'), Type.Literal('thompson'), Type.Literal('three-phase')], {
        description:
          "How the variants share traffic: equal, Thompson sampling, or the three-phase policy; reallocated once a day from the step's results.",
      }),
    ),
    incentive: Type.Optional(
      Type.Object({
        percent: Type.Number({ exclusiveMinimum: 0, maximum: 100 }),
        validHours: Type.Integer({ minimum: 1, maximum: MAX_CODE_VALID_HOURS }),
      }),
    ),
    offer: Type.Optional(
      Type.Literal('cart', {
        description:
          'Built by the abandoned-cart agent: top products and the incentive for the cart.',
      }),
    ),
    sendTimeOptimised: Type.Optional(Type.Boolean({ default: true })),
    next,
  },
  { additionalProperties: false },
);
const webStep = Type.Object(
  {
    id: stepId,
    type: Type.Literal('web'),
    slot: Type.String({ minLength: 1 }),
    content: Type.String({ minLength: 1 }),
    ttlHours: Type.Integer({ minimum: 1 }),
    next,
  },
  { additionalProperties: false },
);
const waitStep = Type.Object(
  {
    id: stepId,
    type: Type.Literal('wait'),
    hours: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    days: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    until: Type.Optional(
      Type.Object({
        event: Type.String({ minLength: 1 }),
        timeoutHours: Type.Number({ exclusiveMinimum: 0 }),
      }),
    ),
    next,
  },
  { additionalProperties: false },
);
const branchStep = Type.Object(
  {
    id: stepId,
    type: Type.Literal('branch'),
    if: Type.Optional(conditionSchema),
    then: Type.Optional(Type.String()),
    else: Type.Optional(Type.String()),
    split: Type.Optional(
      Type.Array(
        Type.Object({
          arm: Type.String({ minLength: 1 }),
          weight: Type.Number({ exclusiveMinimum: 0 }),
          next: Type.String({ minLength: 1 }),
        }),
        { minItems: 2, description: 'Experiment arms: customers split by a stable hash.' },
      ),
    ),
  },
  { additionalProperties: false },
);
const exitStep = Type.Object(
  { id: stepId, type: Type.Literal('exit') },
  { additionalProperties: false },
);

export const stepSchema = Type.Union([sendStep, webStep, waitStep, branchStep, exitStep]);

export const journeySchema = Type.Object(
  {
    id: stepId,
    name: Type.Optional(Type.String()),
    enabled: Type.Optional(Type.Boolean({ default: true })),
    entry: Type.Union([
      Type.Object(
        {
          trigger: Type.Union(
            [
              'signed-up',
              'cart-abandoned',
              'order-placed',
              'stage-changed',
              'segment-changed',
              'inactive',
            ].map((t) => Type.Literal(t)),
          ),
          to: Type.Optional(
            Type.String({
              description:
                'stage-changed / segment-changed: the new value; inactive: the days (30, 90 …).',
            }),
          ),
        },
        { additionalProperties: false },
      ),
      Type.Object({ event: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
    ]),
    exitOn: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), { description: 'Events that end the journey.' }),
    ),
    reEntry: Type.Optional(
      Type.Union([
        Type.Literal('never'),
        Type.Literal('after-exit'),
        Type.Object({ afterDays: Type.Number({ exclusiveMinimum: 0 }) }),
      ]),
    ),
    priority: Type.Optional(Type.Integer({ minimum: 0 })),
    steps: Type.Array(stepSchema, { minItems: 1 }),
  },
  { additionalProperties: false },
);

export type JourneyDefinition = Static<typeof journeySchema>;
export type JourneyStep = Static<typeof stepSchema>;
export type Condition = Static<typeof conditionSchema>;
