import { Readable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Services } from '../../app/create-services.js';
import { AppError } from '../../core/errors.js';
import type { JsonObject } from '../../core/event.js';
import { unsafeIdMessage, type CustomerId } from '../../core/ids.js';
import {
  mayHaveReachedCustomer,
  messageStatuses,
  type MessageRecord,
  type MessageStatus,
  type RecordedVerdict,
} from '../../core/message.js';
import type { Channel } from '../../core/profile.js';
import {
  expireReviews,
  overridesOf,
  reviewMessage,
  sendNow,
} from '../../pipeline/act-on-messages.js';
import {
  auditTrailOf,
  eraseCustomer,
  exportCustomer,
  findCustomersByContact,
  setDoNotSell,
} from '../../pipeline/privacy.js';
import { optedOutOfSale } from '../../core/profile.js';
import { ADMIN, allow, MARKET, principalOfRequest, READ, REVIEW, type Access } from '../auth.js';
import { tooDeepAt, tooDeepMessage } from '../../core/json-depth.js';
import { predictionsOf } from './predictions.js';
import { NOT_BLANK } from '../schema-errors.js';

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** A message as the API shows it: times as ISO-8601. */
/** A message id as Herald makes them: a UUID, whose first digits are the moment it was made. */
const MESSAGE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A page's `before`: the id of the last message of the page before. Ids sort by when they were
 * made, so one whose message has since gone (erased with its customer) still marks the place;
 * anything else — a decision's cursor, a cut-off id — would page from an arbitrary place, and
 * is refused rather than answered with page one again or an empty list that looks like the end.
 */
const messageCursorOf = (before: string): string => {
  if (MESSAGE_ID.test(before)) return before.toLowerCase();
  throw new AppError('invalid-input', `before is not a message id: "${before.slice(0, 80)}"`, {
    problems: [{ path: '/querystring/before', message: 'pass the `next` of the page before' }],
  });
};

/** A verdict as the API shows it: a hold's end as an ISO-8601 time, as every other time. */
const verdictView = ({ holdUntilMs, ...verdict }: RecordedVerdict) =>
  holdUntilMs === undefined ? verdict : { ...verdict, holdUntil: iso(holdUntilMs) };

// A signed tracking token in a link Herald wrote (`/u/<token>`, `/t/c/<token>`, `/t/o/<token>`).
const TRACKING_TOKEN = /(\/(?:u|t\/[co])\/)[\w-]+\.[\w-]+/g;

/**
 * The message's copy with its tracking tokens withheld: once it may have reached the customer its
 * links work for whoever holds them — its unsubscribe link withdraws the customer's consent, its
 * click and open links count as theirs — and a token is the same before it leaves. So the API,
 * which any role may read (a viewer too), shows where each went (`https://…/u/withheld`), not
 * the link itself; a reviewer (or an admin) reads a message that has not left as it will go, to
 * edit it (`fullCopy`).
 */
const withTokensWithheld = (value: unknown): unknown => {
  if (typeof value === 'string') return value.replace(TRACKING_TOKEN, '$1withheld');
  if (Array.isArray(value)) return value.map(withTokensWithheld);
  if (typeof value === 'object' && value !== null)
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) => [key, withTokensWithheld(inner)]),
    );
  return value;
};

export const toMessageView = (m: MessageRecord, fullCopy = false) => {
  const {
    sendAtMs,
    dueAtMs,
    throttledSinceMs,
    validUntilMs,
    offerEndsMs,
    createdAtMs,
    updatedAtMs,
    reviewExpiresAtMs,
    sentAtMs,
    web,
    verdicts,
    reviews,
    ...rest
  } = m;
  return {
    ...rest,
    content:
      fullCopy && !mayHaveReachedCustomer(m)
        ? rest.content
        : (withTokensWithheld(rest.content) as MessageRecord['content']),
    verdicts: verdicts.map(verdictView),
    web: web === null ? null : { slot: web.slot, expiresAt: iso(web.expiresAtMs) },
    sentAt: iso(sentAtMs),
    sendAt: iso(sendAtMs),
    dueAt: iso(dueAtMs ?? null),
    throttledSince: iso(throttledSinceMs ?? null),
    validUntil: iso(validUntilMs ?? null),
    offerEnds: iso(offerEndsMs ?? null),
    createdAt: iso(createdAtMs),
    updatedAt: iso(updatedAtMs),
    reviewExpiresAt: iso(reviewExpiresAtMs),
    reviews: reviews.map(({ atMs, ...r }) => ({ ...r, at: iso(atMs) })),
  };
};

/** Whether the caller may edit a message's copy in review, and so reads it as it will go. */
const editsCopy = (request: FastifyRequest) => REVIEW.includes(principalOfRequest(request).role);

const channels = ['email', 'sms', 'whatsapp', 'push', 'web'];

/**
 * Messages, the review queue, API sends, the audit log and data-subject requests. Reading needs
 * any role; sending a marketer; reviewing a reviewer; the audit export and data-subject
 * requests an admin.
 */
export const registerMessageRoutes = (
  app: FastifyInstance,
  services: Services,
  access: Access,
): void => {
  const { store } = services;
  const read = allow(access, READ);
  const customerOf = async (userId: string): Promise<CustomerId> => {
    const id = await store.resolveUserId(userId);
    if (id === undefined) throw new AppError('not-found', `no customer with userId "${userId}"`);
    return id;
  };

  app.post<{
    Body: { userId: string | number; channel: Channel; template: string; data?: JsonObject };
  }>(
    '/v1/sends',
    {
      ...allow(access, MARKET),
      schema: {
        body: Type.Object(
          {
            // A number, as the tracking API takes one (a shop's numeric ids), is its text; one
            // JSON cannot carry exactly (past 2^53, or a fraction) is refused as it is there.
            userId: Type.Union([Type.String({ minLength: 1 }), Type.Number()]),
            channel: Type.Union(channels.map((c) => Type.Literal(c))),
            template: Type.String({ minLength: 1 }),
            data: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      const header = request.headers['idempotency-key'];
      const key = typeof header === 'string' && header !== '' ? header : null;
      if (key !== null && key.length > 255)
        throw new AppError('invalid-input', 'Idempotency-Key is longer than 255 characters');
      const b = request.body;
      if (typeof b.userId === 'number' && !Number.isSafeInteger(b.userId))
        throw new AppError('invalid-input', `/userId ${unsafeIdMessage(b.userId)}`, {
          problems: [{ path: '/userId', message: unsafeIdMessage(b.userId) }],
        });
      const deep = tooDeepAt(b.data ?? {}, '/data');
      if (deep !== null)
        throw new AppError('invalid-input', `${deep} ${tooDeepMessage}`, {
          problems: [{ path: deep, message: tooDeepMessage }],
        });
      const { answer, replayed } = await sendNow(
        store,
        services.guard,
        {
          customerId: await customerOf(String(b.userId)),
          requestedAs: String(b.userId),
          channel: b.channel,
          template: b.template,
          data: b.data ?? {},
          by: principalOfRequest(request).name,
          idempotencyKey: key,
        },
        () => services.ids.next(),
        services.clock.nowMs(),
      );
      if (replayed) void reply.header('idempotent-replayed', 'true');
      return reply
        .code(replayed ? 200 : 201)
        .send({ ...answer, verdicts: answer.verdicts.map(verdictView) });
    },
  );

  app.get<{
    Querystring: {
      userId?: string;
      campaignId?: string;
      status?: MessageStatus;
      before?: string;
      limit: number;
    };
  }>(
    '/v1/messages',
    {
      ...read,
      schema: {
        querystring: Type.Object({
          userId: Type.Optional(Type.String({ minLength: 1 })),
          campaignId: Type.Optional(Type.String({ minLength: 1 })),
          status: Type.Optional(Type.Union(messageStatuses.map((s) => Type.Literal(s)))),
          before: Type.Optional(Type.String({ minLength: 1 })),
          limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
        }),
      },
    },
    async (request) => {
      const q = request.query;
      const messages = await store.listMessages({
        ...(q.userId === undefined ? {} : { customerId: await customerOf(q.userId) }),
        ...(q.campaignId === undefined ? {} : { campaignId: q.campaignId }),
        ...(q.status === undefined ? {} : { status: q.status }),
        ...(q.before === undefined ? {} : { beforeId: messageCursorOf(q.before) }),
        limit: q.limit,
      });
      const last = messages[messages.length - 1];
      return {
        messages: messages.map((m) => toMessageView(m, editsCopy(request))),
        next: messages.length === q.limit && last !== undefined ? last.id : null,
      };
    },
  );
  app.get<{ Params: { id: string } }>('/v1/messages/:id', read, async (request) => {
    const message = await store.getMessage(request.params.id);
    if (message === undefined) throw new AppError('not-found', `no message ${request.params.id}`);
    return toMessageView(message, editsCopy(request));
  });

  app.get<{ Querystring: { limit: number; before?: string } }>(
    '/v1/reviews',
    {
      ...read,
      schema: {
        querystring: Type.Object({
          before: Type.Optional(Type.String({ minLength: 1 })),
          limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
        }),
      },
    },
    async (request) => {
      const nowMs = services.clock.nowMs();
      await expireReviews(store, nowMs);
      const waiting = await store.listMessages({
        status: 'review',
        limit: request.query.limit,
        ...(request.query.before === undefined
          ? {}
          : { beforeId: messageCursorOf(request.query.before) }),
      });
      const counts = await store.reviewCounts();
      const { overridden, decided } = overridesOf(counts);
      const last = waiting[waiting.length - 1];
      return {
        reviews: waiting.map((m) => toMessageView(m, editsCopy(request))),
        next: waiting.length === request.query.limit && last !== undefined ? last.id : null,
        metrics: {
          // Every action, counted or not: a dashboard reads zero, not a missing key.
          approve: 0,
          'edit-approve': 0,
          return: 0,
          'approve-blocked': 0,
          reject: 0,
          expire: 0,
          ...counts,
          // Of the messages a guardrail sent to a person, the share a person let through.
          humanOverrideRate: decided === 0 ? null : overridden / decided,
        },
      };
    },
  );
  const reviewBody = Type.Object(
    {
      reason: Type.String({ minLength: 1, maxLength: 2000, pattern: NOT_BLANK }),
      // The message's `contentHash` as the reviewer read it (null: a message with no content).
      contentHash: Type.Optional(Type.Union([Type.String({ minLength: 1 }), Type.Null()])),
      edits: Type.Optional(
        Type.Object(
          {
            subject: Type.Optional(Type.String()),
            preheader: Type.Optional(Type.String()),
            body: Type.Optional(Type.String({ minLength: 1 })),
            html: Type.Optional(Type.String()),
          },
          { additionalProperties: false },
        ),
      ),
    },
    { additionalProperties: false },
  );
  for (const action of ['approve', 'reject'] as const)
    app.post<{
      Params: { id: string };
      Body: {
        reason: string;
        contentHash?: string | null;
        edits?: { subject?: string; preheader?: string; body?: string; html?: string };
      };
    }>(
      `/v1/reviews/:id/${action}`,
      { ...allow(access, REVIEW), schema: { body: reviewBody } },
      async (request) => {
        if (action === 'reject' && request.body.edits !== undefined)
          throw new AppError('invalid-input', 'a rejection takes no edits', {
            problems: [{ path: '/edits', message: 'only an approval can edit the message' }],
          });
        const message = await reviewMessage(
          store,
          services.guard,
          {
            messageId: request.params.id,
            action,
            reviewer: principalOfRequest(request).name,
            reason: request.body.reason,
            ...(request.body.edits === undefined ? {} : { edits: request.body.edits }),
            ...(request.body.contentHash === undefined
              ? {}
              : { contentHash: request.body.contentHash }),
          },
          services.clock.nowMs(),
        );
        return toMessageView(message, true);
      },
    );

  app.get<{ Querystring: { userId?: string; decisionId?: string; limit: number } }>(
    '/v1/conversions',
    {
      ...read,
      schema: {
        querystring: Type.Object({
          userId: Type.Optional(Type.String({ minLength: 1 })),
          decisionId: Type.Optional(Type.String({ minLength: 1 })),
          limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
        }),
      },
    },
    async (request) => {
      const q = request.query;
      const conversions = await store.listConversions({
        ...(q.userId === undefined ? {} : { customerId: await customerOf(q.userId) }),
        ...(q.decisionId === undefined ? {} : { decisionId: q.decisionId }),
        limit: q.limit,
      });
      // A decision that does not exist is a 404, as an unknown user is: not an empty answer that
      // reads as "no orders credited".
      if (
        q.decisionId !== undefined &&
        conversions.length === 0 &&
        (await store.getDecision(q.decisionId)) === undefined
      )
        throw new AppError('not-found', `no decision ${q.decisionId}`);
      return {
        conversions: conversions.map(({ atMs, revenueCents, touches, ...c }) => ({
          ...c,
          revenue: revenueCents / 100,
          at: iso(atMs),
          touches: touches.map(({ sentAtMs, ...t }) => ({ ...t, sentAt: iso(sentAtMs) })),
        })),
      };
    },
  );

  const admin = allow(access, ADMIN);
  app.get('/v1/audit/verify', admin, async () => services.verifyAudit());
  app.get<{ Params: { userId: string } }>('/v1/customers/:userId/audit', admin, async (request) => {
    const id = await customerOf(request.params.userId);
    return { customerId: id, audit: await auditTrailOf(store, id) };
  });
  app.get<{ Querystring: { email?: string; phone?: string } }>(
    '/v1/customers',
    {
      ...admin,
      schema: {
        querystring: Type.Object(
          {
            email: Type.Optional(Type.String({ minLength: 1, maxLength: 320 })),
            phone: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => findCustomersByContact(store, request.query),
  );
  app.get<{ Params: { userId: string } }>(
    '/v1/customers/:userId/export',
    admin,
    async (request, reply) => {
      const pieces = await exportCustomer(
        store,
        await customerOf(request.params.userId),
        principalOfRequest(request).name,
        services.clock.nowMs(),
        services.guard.figures,
        predictionsOf(services),
      );
      // Written as it is read: a long history is never held whole.
      return reply.type('application/json; charset=utf-8').send(Readable.from(pieces));
    },
  );
  app.post<{ Params: { userId: string }; Body: { reason: string } }>(
    '/v1/customers/:userId/erase',
    {
      ...admin,
      schema: {
        body: Type.Object(
          { reason: Type.String({ minLength: 1, maxLength: 2000, pattern: NOT_BLANK }) },
          { additionalProperties: false },
        ),
      },
    },
    async (request) =>
      eraseCustomer(
        store,
        await customerOf(request.params.userId),
        principalOfRequest(request).name,
        request.body.reason,
        services.clock.nowMs(),
      ),
  );
  app.post<{ Params: { userId: string }; Body: { doNotSell: boolean } }>(
    '/v1/customers/:userId/do-not-sell',
    {
      ...admin,
      schema: {
        body: Type.Object({ doNotSell: Type.Boolean() }, { additionalProperties: false }),
      },
    },
    async (request) => {
      const customerId = await customerOf(request.params.userId);
      await setDoNotSell(
        store,
        (events, nowMs, within) => services.recorder.record(events, nowMs, within),
        customerId,
        request.body.doNotSell,
        principalOfRequest(request).name,
        services.clock.nowMs(),
      );
      const profile = await store.getProfile(customerId);
      return { doNotSell: profile !== undefined && optedOutOfSale(profile.state) };
    },
  );
};
