import { Value } from '@sinclair/typebox/value';
import type { HeraldEvent, JsonObject } from '../../core/event.js';
import { toCustomerId, toMessageId, toSourceId } from '../../core/ids.js';
import type { ProfileState } from '../../core/profile.js';
import { DAY_MS } from '../../core/time.js';
import { applyEvent, emptyProfile, type EventFacts } from './apply-event.js';
import { profilePolicySchema, type ProfilePolicy } from './policy.js';

/** The fixed instant tests start from; no test reads the real clock. */
export const t0 = Date.parse('2026-01-01T00:00:00.000Z');
export const daysMs = (days: number): number => days * DAY_MS;

/** The policy with every default filled in; throws if the schema's defaults leave a gap. */
export const defaultPolicy = (): ProfilePolicy => {
  const policy = Value.Default(profilePolicySchema, {});
  if (!Value.Check(profilePolicySchema, policy)) {
    throw new Error('the profile policy schema does not default every field');
  }
  return policy;
};

/** A track event by `u1` at t0, received when it happened; override any field. */
export const anEvent = (overrides: Partial<HeraldEvent> = {}): HeraldEvent => ({
  messageId: toMessageId(`m-${String(overrides.timestampMs ?? t0)}-${overrides.name ?? ''}`),
  sourceId: toSourceId('test'),
  type: 'track',
  userId: 'u1',
  anonymousId: null,
  previousId: null,
  groupId: null,
  name: 'Product Viewed',
  properties: {},
  traits: {},
  context: {},
  timestampMs: t0,
  receivedAtMs: overrides.timestampMs ?? t0,
  ...overrides,
});

export const aTrack = (
  name: string,
  properties: JsonObject = {},
  overrides: Partial<HeraldEvent> = {},
): HeraldEvent => anEvent({ name, properties, ...overrides });

export const anIdentify = (traits: JsonObject, overrides: Partial<HeraldEvent> = {}): HeraldEvent =>
  anEvent({ type: 'identify', name: null, traits, ...overrides });

/** An empty profile of `u1` first seen at t0; override any fact. */
export const aProfile = (overrides: Partial<ProfileState> = {}): ProfileState => ({
  ...emptyProfile(toCustomerId('u1'), t0),
  ...overrides,
});

const noFacts: EventFacts = { repeatOrder: false };

/** Applies events in the order given, none of them a repeated order. */
export const applyAll = (
  events: readonly HeraldEvent[],
  policy: ProfilePolicy = defaultPolicy(),
  start: ProfileState = aProfile(),
): ProfileState =>
  events.reduce((state, event) => applyEvent(state, event, noFacts, policy), start);
