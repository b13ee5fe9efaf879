import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../core/errors.js';
import type { StoredEvent } from '../../core/event.js';
import type { ComputedProfile, ProfileState } from '../../core/profile.js';
import { deriveComputed } from '../../pipeline/profile/index.js';
import type { Services } from '../../app/create-services.js';
import { allow, READ, type Access } from '../auth.js';
import { predictionsOf } from './predictions.js';

/**
 * An instant as ISO-8601, or null when there is none — or none a calendar has: a signup time
 * stored before `asTimeMs` refused such numbers (nanoseconds) must not fail the whole profile.
 */
const iso = (ms: number | null): string | null => {
  if (ms === null) return null;
  const at = new Date(ms);
  return Number.isNaN(at.getTime()) ? null : at.toISOString();
};

const toConsentView = (consent: ProfileState['consent']) =>
  Object.fromEntries(
    Object.entries(consent).map(([channel, purposes]) => [
      channel,
      Object.fromEntries(
        Object.entries(purposes).map(([purpose, e]) => [
          purpose,
          {
            granted: e.granted,
            at: iso(e.atMs),
            source: e.source,
            ...(e.sinceMs === undefined ? {} : { since: iso(e.sinceMs) }),
          },
        ]),
      ),
    ]),
  );

/** The figures as the API shows them: instants as ISO-8601. */
const toComputedView = (c: ComputedProfile) => {
  const { computedAtMs, cart, ...figures } = c;
  return {
    ...figures,
    cart:
      cart === null
        ? null
        : {
            items: cart.items,
            value: cart.value,
            updatedAt: new Date(cart.updatedAtMs).toISOString(),
          },
    computedAt: new Date(computedAtMs).toISOString(),
  };
};

export const toEventView = (e: StoredEvent) => ({
  messageId: e.messageId,
  type: e.type,
  event: e.type === 'track' ? e.name : undefined,
  name: e.type === 'track' ? undefined : e.name,
  userId: e.userId,
  anonymousId: e.anonymousId,
  properties: e.properties,
  traits: e.traits,
  context: e.context,
  timestamp: iso(e.timestampMs),
  receivedAt: iso(e.receivedAtMs),
});

/** The profile API (admin bearer token): a customer's profile and recent events. */
export const registerProfileRoutes = (
  app: FastifyInstance,
  services: Services,
  access: Access,
): void => {
  const { store, config, clock, churnModel } = services;
  const resolve = async (userId: string) => {
    const customerId = await store.resolveUserId(userId);
    if (customerId === undefined)
      throw new AppError('not-found', `no profile for userId "${userId}"`);
    return customerId;
  };
  const admin = allow(access, READ);
  const predictedFor = predictionsOf(services);
  app.get<{ Params: { userId: string } }>('/v1/profiles/:userId', admin, async (request) => {
    const row = await store.getProfile(await resolve(request.params.userId));
    if (row === undefined)
      throw new AppError('not-found', `no profile for userId "${request.params.userId}"`);
    const s = row.state;
    const nowMs = clock.nowMs();
    const computed = deriveComputed(s, nowMs, config.profilePolicy, churnModel);
    return {
      userId: s.userId,
      customerId: s.customerId,
      anonymousIds: s.anonymousIds,
      aliases: s.aliases,
      traits: s.traits,
      location: s.location,
      consent: toConsentView(s.consent),
      // When the customer stopped marketing in a provider's own app (WhatsApp), per channel.
      ...(s.marketingStops === undefined
        ? {}
        : {
            marketingStops: Object.fromEntries(
              Object.entries(s.marketingStops).map(([channel, atMs]) => [channel, iso(atMs)]),
            ),
          }),
      preferences: s.preferences,
      firstSeenAt: iso(s.firstSeenAtMs),
      lastSeenAt: iso(s.lastSeenAtMs),
      signedUpAt: iso(s.signedUpAtMs),
      lastActiveAt: iso(s.lastActiveAtMs),
      eventCount: s.eventCount,
      email: { hardBounces: s.email.hardBounces, complaints: s.email.complaints },
      computed: toComputedView(computed),
      predicted: await predictedFor(row.customerId, computed, nowMs),
    };
  });
  app.get<{ Params: { userId: string }; Querystring: { limit: number } }>(
    '/v1/profiles/:userId/events',
    {
      ...admin,
      schema: {
        querystring: Type.Object({
          limit: Type.Integer({ minimum: 1, maximum: 1000, default: 50 }),
        }),
      },
    },
    async (request) => {
      const events = await store.listEvents(
        await resolve(request.params.userId),
        request.query.limit,
      );
      return { events: events.map(toEventView) };
    },
  );
};
