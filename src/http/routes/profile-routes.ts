import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../core/errors.js';
import type { StoredEvent } from '../../core/event.js';
import type { ComputedProfile, ProfileState } from '../../core/profile.js';
import { deriveComputed } from '../../pipeline/profile/index.js';
import { predictConversion, predictForCustomer, toClvModel } from '../../pipeline/predict/index.js';
import type { CustomerId } from '../../core/ids.js';
import type { ModelVersion } from '../../ports/model-store.js';
import type { Services } from '../../app/create-services.js';
import { allow, READ, type Access } from '../auth.js';

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
  /**
   * The customer's probability of converting on each channel (and the strategies' rates) under
   * the latest conversion run, or why there is none.
   */
  const conversionFor = async (customerId: CustomerId, recent: readonly ModelVersion[]) => {
    const latest = recent.find((m) => m.kind === 'conversion');
    if (latest === undefined)
      return {
        modelVersion: null,
        reason: 'no conversion model trained yet (herald models train)',
      };
    const prediction = predictConversion(
      latest,
      await store.listCustomerMessageOutcomes(customerId),
    );
    return prediction ?? { modelVersion: latest.version, reason: latest.reason };
  };
  /**
   * The latest trained CLV model's figures for the customer, and the live churn risk with the
   * scorer that made it: the trained churn model (its version) or the rule-based score (and why).
   */
  const predictedFor = async (customerId: CustomerId, computed: ComputedProfile, nowMs: number) => {
    const churn =
      computed.churnModelVersion === null
        ? {
            churnRisk: computed.churnRisk,
            churnRiskSource: 'rules' as const,
            churnModelVersion: null,
            churnRiskReason:
              churnModel.current() === null ? churnModel.why() : 'the customer has no orders',
          }
        : {
            churnRisk: computed.churnRisk,
            churnRiskSource: 'model' as const,
            churnModelVersion: computed.churnModelVersion,
          };
    const recent = await store.listModels(20);
    const conversion = await conversionFor(customerId, recent);
    const latest = recent.find((m) => toClvModel(m) !== null);
    if (latest === undefined)
      return {
        modelVersion: null,
        reason: 'no trained model (herald models train)',
        ...churn,
        conversion,
      };
    const orders = await store.listCustomerOrders(customerId);
    let prediction: ReturnType<typeof predictForCustomer>;
    try {
      prediction = predictForCustomer(latest, orders, nowMs);
    } catch (error) {
      // A model's numerical failure for one customer is no failure of their profile.
      return {
        modelVersion: latest.version,
        reason: `the model could not score this customer: ${error instanceof Error ? error.message : String(error)}`,
        ...churn,
        conversion,
      };
    }
    if (prediction === null)
      return { modelVersion: latest.version, reason: 'no orders to score', ...churn, conversion };
    return { ...prediction, ...churn, conversion };
  };
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
