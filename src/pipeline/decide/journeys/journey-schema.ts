import { Type, type Static } from '@sinclair/typebox';
import { MAX_CODE_VALID_HOURS } from '../../../core/decision.js';
import { lifecycleStages } from '../../../core/profile.js';
import { segmentNames } from '../agents/segment-customer.js';

export const channelSchema = Type.Union([
  Type.Literal('email'),
  Type.Literal('sms'),
  Type.Literal('whatsapp'),
  Type.Literal('push'),
  Type.Literal('web'),
]);

/**
 * The longest a journey waits, ten years (`days`, or `hours` and `timeoutHours`, and a web
 * step's `ttlHours`; checkJourneys): longer is a slip, and a due time past it can overflow what
 * the store and JavaScript's dates hold.
 */
export const MAX_WAIT_DAYS = 3650;
export const MAX_WAIT_HOURS = MAX_WAIT_DAYS * 24;

const stepId = Type.String({ minLength: 1, pattern: '^[a-z0-9][a-z0-9-]*$' });
const next = Type.Optional(
  Type.String({ description: 'Step to go to next (default: the following one).' }),
);

/** Every lifecycle stage, the values a `stage-changed` trigger moves to. */
export const stageNames = lifecycleStages;

/** The profile fields a condition reads (evaluate-condition.ts), besides `trait.NAME`. */
export const conditionFields = [
  'lifecycleStage',
  'segment',
  'frequency',
  'monetary',
  'ltv',
  'recencyDays',
  'engagementScore',
  'churnRisk',
  'vip',
  'country',
  'cartValue',
] as const;

const conditionField = Type.Union([
  ...conditionFields.map((f) => Type.Literal(f)),
  Type.String({ pattern: '^trait\\..+$', description: 'trait.NAME' }),
]);

// One shape per kind of operator, told apart by `op`: `in` compares with a list and the order
// operators with a number, so any other value would make the branch always go to `else`.
const equalCondition = Type.Object(
  {
    field: conditionField,
    op: Type.Union([Type.Literal('eq'), Type.Literal('neq')]),
    value: Type.Unknown(),
  },
  { additionalProperties: false },
);
const listCondition = Type.Object(
  {
    field: conditionField,
    op: Type.Literal('in'),
    value: Type.Array(Type.Unknown(), { minItems: 1 }),
  },
  { additionalProperties: false },
);
const orderCondition = Type.Object(
  {
    field: conditionField,
    op: Type.Union((['gt', 'gte', 'lt', 'lte'] as const).map((o) => Type.Literal(o))),
    value: Type.Number(),
  },
  { additionalProperties: false },
);
const eventCondition = Type.Object(
  {
    event: Type.String({ minLength: 1, description: 'True when this event arrived since entry.' }),
  },
  { additionalProperties: false },
);
export const conditionSchema = Type.Union([
  equalCondition,
  listCondition,
  orderCondition,
  eventCondition,
]);

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
      Type.Object(
        {
          percent: Type.Number({ exclusiveMinimum: 0, maximum: 100 }),
          validHours: Type.Integer({ minimum: 1, maximum: MAX_CODE_VALID_HOURS }),
        },
        { additionalProperties: false },
      ),
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
      Type.Object(
        {
          event: Type.String({ minLength: 1 }),
          timeoutHours: Type.Number({ exclusiveMinimum: 0 }),
        },
        { additionalProperties: false },
      ),
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
        Type.Object(
          {
            arm: Type.String({ minLength: 1 }),
            weight: Type.Number({ exclusiveMinimum: 0 }),
            next: Type.String({ minLength: 1 }),
          },
          { additionalProperties: false },
        ),
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

// One shape per trigger, told apart by `trigger`: `to` is what a trigger of that kind can move
// to, so a value no trigger ever carries (a misspelt stage) is refused instead of never firing.
// The days of an `inactive` trigger depend on `decide.winBack` (checkJourneys).
const entrySchema = Type.Union([
  Type.Object(
    {
      trigger: Type.Union([
        Type.Literal('signed-up'),
        Type.Literal('cart-abandoned'),
        Type.Literal('order-placed'),
      ]),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      trigger: Type.Literal('stage-changed'),
      to: Type.Optional(Type.Union(stageNames.map((s) => Type.Literal(s)))),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      trigger: Type.Literal('segment-changed'),
      to: Type.Optional(Type.Union(segmentNames.map((s) => Type.Literal(s)))),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      trigger: Type.Literal('inactive'),
      to: Type.Optional(
        Type.String({ description: 'The days: decide.winBack.inactiveDays or dormantDays.' }),
      ),
    },
    { additionalProperties: false },
  ),
  Type.Object({ event: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
]);

export const journeySchema = Type.Object(
  {
    id: stepId,
    name: Type.Optional(Type.String()),
    enabled: Type.Optional(Type.Boolean({ default: true })),
    entry: entrySchema,
    exitOn: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), { description: 'Events that end the journey.' }),
    ),
    reEntry: Type.Optional(
      Type.Union([
        Type.Literal('never'),
        Type.Literal('after-exit'),
        Type.Object(
          { afterDays: Type.Number({ exclusiveMinimum: 0 }) },
          { additionalProperties: false },
        ),
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
