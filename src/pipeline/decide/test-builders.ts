import { Value } from '@sinclair/typebox/value';
import type { Trigger } from '../../core/decision.js';
import type { HeraldEvent, JsonObject } from '../../core/event.js';
import { toCustomerId, toMessageId, toSourceId, type CustomerId } from '../../core/ids.js';
import type {
  Cart,
  CartItem,
  Channel,
  ComputedProfile,
  Consent,
  LifecycleStage,
  ProfileState,
} from '../../core/profile.js';
import { DAY_MS, HOUR_MS, daysBetween } from '../../core/time.js';
import type { CustomerMarks, Membership, WorkItem } from '../../ports/decide-store.js';
import { segmentCustomer } from './agents/segment-customer.js';
import { defaultJourneys } from './journeys/default-journeys.js';
import { buildCatalog, type JourneyCatalog } from './journeys/journey-catalog.js';
import type { JourneyDefinition } from './journeys/journey-schema.js';
import { decidePolicySchema, type DecidePolicy } from './policy.js';
import type { CustomerView, DecideEnv, Proposal } from './proposal.js';

/** The fixed instant tests decide at: Thursday 2026-01-15, noon UTC (outside quiet hours). */
export const t0 = Date.parse('2026-01-15T12:00:00.000Z');
export const daysMs = (days: number): number => days * DAY_MS;
export const hoursMs = (hours: number): number => hours * HOUR_MS;
export const c1: CustomerId = toCustomerId('c1');

/** The decide policy with every default filled in; throws if the schema's defaults leave a gap. */
export const defaultDecidePolicy = (): DecidePolicy => {
  const policy = Value.Default(decidePolicySchema, {});
  if (!Value.Check(decidePolicySchema, policy)) {
    throw new Error('the decide policy schema does not default every field');
  }
  return policy;
};

/** Marketing consent granted (or withdrawn) on each channel named, recorded at t0. */
export const consentOf = (
  granted: readonly Channel[],
  withdrawn: readonly Channel[] = [],
): Consent => {
  const consent: Consent = {};
  for (const channel of granted)
    consent[channel] = { marketing: { granted: true, atMs: t0, source: 'test' } };
  for (const channel of withdrawn)
    consent[channel] = { marketing: { granted: false, atMs: t0, source: 'test' } };
  return consent;
};

export const anOrders = (
  overrides: Partial<ProfileState['orders']> = {},
): ProfileState['orders'] => ({
  count: 0,
  revenueCents: 0,
  refundedCents: 0,
  firstAtMs: null,
  lastAtMs: null,
  ...overrides,
});

/**
 * Customer `c1`: first seen and signed up 100 days before t0, active a day ago, with an email
 * address opted in to marketing, a push device (not opted in), no orders and no cart; override
 * any fact.
 */
export const aState = (overrides: Partial<ProfileState> = {}): ProfileState => ({
  customerId: c1,
  userId: 'c1',
  anonymousIds: [],
  aliases: [],
  traits: { email: 'c1@example.com' },
  devices: [{ token: 'device-c1', platform: 'android', seenAtMs: t0 - daysMs(1) }],
  location: { country: null, region: null, city: null, timezone: null },
  consent: consentOf(['email']),
  preferences: {},
  firstSeenAtMs: t0 - daysMs(100),
  lastSeenAtMs: t0 - daysMs(1),
  signedUpAtMs: t0 - daysMs(100),
  lastActiveAtMs: t0 - daysMs(1),
  orders: anOrders(),
  engagement: { points: 0, asOfMs: t0 },
  email: { hardBounces: 0, complaints: 0, lastBounceAtMs: null },
  cart: null,
  eventCount: 0,
  ...overrides,
});

export const aCartItem = (overrides: Partial<CartItem> = {}): CartItem => ({
  productId: 'p1',
  sku: null,
  name: 'Product',
  priceCents: 1000,
  quantity: 1,
  marginCents: null,
  ...overrides,
});

/** A cart of these items (value = Σ price × quantity unless given), last changed at `updatedAtMs`. */
export const aCart = (
  items: CartItem[],
  updatedAtMs: number,
  valueCents = items.reduce((sum, i) => sum + i.priceCents * i.quantity, 0),
): Cart => ({ items, valueCents, updatedAtMs });

/**
 * A small stand-in for the profile stage's figures (decide may not import profile): net
 * revenue as monetary and LTV, VIP above $1000, stages new (< 30 days since signup, no order),
 * churned (inactive ≥ 90 days), at-risk (≥ 30), else active.
 */
export const toComputed = (state: ProfileState, nowMs: number): ComputedProfile => {
  const monetary = (state.orders.revenueCents - state.orders.refundedCents) / 100;
  const inactiveDays = daysBetween(state.lastActiveAtMs ?? state.firstSeenAtMs, nowMs);
  const signedUp = state.signedUpAtMs ?? state.firstSeenAtMs;
  const stage: LifecycleStage =
    daysBetween(signedUp, nowMs) < 30 && state.orders.count === 0
      ? 'new'
      : inactiveDays >= 90
        ? 'churned'
        : inactiveDays >= 30
          ? 'at-risk'
          : 'active';
  return {
    recencyDays:
      state.orders.lastAtMs === null ? null : Math.floor(daysBetween(state.orders.lastAtMs, nowMs)),
    frequency: state.orders.count,
    monetary,
    engagementScore: 0,
    churnRisk: 0,
    churnModelVersion: null,
    lifecycleStage: stage,
    ltv: monetary,
    vip: monetary > 1000,
    daysSinceActive: state.lastActiveAtMs === null ? null : inactiveDays,
    cart:
      state.cart === null
        ? null
        : {
            items: state.cart.items,
            value: state.cart.valueCents / 100,
            updatedAtMs: state.cart.updatedAtMs,
          },
    computedAtMs: nowMs,
  };
};

/** The figures of `aState()` at t0; override any figure. */
export const aComputed = (overrides: Partial<ComputedProfile> = {}): ComputedProfile => ({
  ...toComputed(aState(), t0),
  ...overrides,
});

/** A customer as the agents see them: `aState()` at t0 in segment Standard unless given. */
export const aView = (
  overrides: { state?: ProfileState; computed?: Partial<ComputedProfile>; segment?: string } = {},
): CustomerView => {
  const state = overrides.state ?? aState();
  return {
    customerId: state.customerId,
    state,
    computed: { ...toComputed(state, t0), ...overrides.computed },
    segment: overrides.segment ?? 'Standard',
    conversion: null,
  };
};

/** Ids `d1`, `d2` … in order. */
export const idSequence = (prefix = 'd'): (() => string) => {
  let n = 0;
  return () => {
    n += 1;
    return `${prefix}${n}`;
  };
};

export const catalogOf = (journeys: readonly JourneyDefinition[]): JourneyCatalog =>
  buildCatalog(journeys, []).catalog;

/** The default policy, the default journeys at version 1, and the stand-in profile figures. */
export const anEnv = (overrides: Partial<DecideEnv> = {}): DecideEnv => ({
  policy: defaultDecidePolicy(),
  journeys: catalogOf(defaultJourneys),
  computeProfile: toComputed,
  population: null,
  nextId: idSequence(),
  // The guard's default `autoOptOutHardBounces`.
  emailBounceLimit: 3,
  // The guard's default `gdpr.impliedSources`.
  impliedConsentSources: ['implied', 'import:implied'],
  // The default templates are all marketing.
  transactionalTemplates: new Set(),
  ...overrides,
});

/** A policy with some sections replaced. */
export const withPolicy = (overrides: Partial<DecidePolicy>): DecidePolicy => ({
  ...defaultDecidePolicy(),
  ...overrides,
});

/** What the decide stage would have recorded for `state` at `nowMs`. */
export const marksOf = (state: ProfileState, nowMs: number): CustomerMarks => {
  const computed = toComputed(state, nowMs);
  return {
    customerId: state.customerId,
    stage: computed.lifecycleStage,
    segment: segmentCustomer(state, computed, nowMs, defaultDecidePolicy().segments),
    updatedAtMs: nowMs,
  };
};

/** `c1` in journey `welcome` v1 at its first step since t0; override any field. */
export const aMembership = (overrides: Partial<Membership> = {}): Membership => ({
  customerId: c1,
  journeyId: 'welcome',
  version: 1,
  stepId: 'day-1-email',
  status: 'active',
  enteredAtMs: t0,
  updatedAtMs: t0,
  entries: 1,
  exitReason: null,
  seenEvents: [],
  waitingFor: null,
  arms: {},
  ...overrides,
});

export const aWorkItem = (trigger: Trigger, overrides: Partial<WorkItem> = {}): WorkItem => ({
  id: 1,
  key: `c1|${trigger.kind}`,
  customerId: c1,
  dueAtMs: t0,
  trigger,
  attempts: 0,
  ...overrides,
});

/** A message proposal of the lifecycle agent on email; override any field. */
export const aProposal = (overrides: Partial<Proposal> = {}): Proposal => ({
  agent: 'lifecycle',
  trigger: { kind: 'stage-changed', from: 'new', to: 'active' },
  kind: 'send',
  action: 'engagement',
  channels: ['email'],
  template: 'upsell',
  incentive: null,
  scheduledForMs: t0,
  confidence: 0.9,
  reasons: ['a reason'],
  priority: 50,
  expectedValue: 10,
  journey: null,
  experiment: null,
  details: {},
  ...overrides,
});

/** A track event by `c1` at t0; override any field. */
export const anEvent = (
  name: string,
  properties: JsonObject = {},
  overrides: Partial<HeraldEvent> = {},
): HeraldEvent => ({
  messageId: toMessageId(`m-${name}`),
  sourceId: toSourceId('src'),
  type: 'track',
  userId: 'c1',
  anonymousId: null,
  previousId: null,
  groupId: null,
  name,
  properties,
  traits: {},
  context: {},
  timestampMs: t0,
  receivedAtMs: t0,
  ...overrides,
});
