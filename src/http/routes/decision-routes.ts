import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../app/create-services.js';
import {
  CAMPAIGN_ID_PATTERN,
  decisionAgents,
  MAX_CODE_VALID_HOURS,
  type Decision,
} from '../../core/decision.js';
import { AppError } from '../../core/errors.js';
import { parseDateInput } from '../../core/time.js';
import type { CustomerId } from '../../core/ids.js';
import type { Membership, WorkRecord } from '../../ports/decide-store.js';
import { allow, MARKET, READ, type Access } from '../auth.js';
import { segmentNames } from '../../pipeline/decide/index.js';
import { launchCampaign } from '../../pipeline/launch-campaign.js';
import { refuseUnprintedCode } from '../../pipeline/render/index.js';
import { campaignStatus } from '../../pipeline/campaign-definition.js';
import type { Channel } from '../../core/profile.js';

const iso = (ms: number): string => new Date(ms).toISOString();

/** A decision as the API shows it: times as ISO-8601 instead of epoch milliseconds. */
export const toDecisionView = (d: Decision) => {
  const { scheduledForMs, createdAtMs, incentive, ...rest } = d;
  return {
    ...rest,
    incentive:
      incentive === null
        ? null
        : { ...incentive, expiresAtMs: undefined, expiresAt: iso(incentive.expiresAtMs) },
    scheduledFor: iso(scheduledForMs),
    createdAt: iso(createdAtMs),
  };
};

const toMembershipView = (m: Membership) => ({
  journeyId: m.journeyId,
  version: m.version,
  stepId: m.stepId,
  status: m.status,
  enteredAt: iso(m.enteredAtMs),
  updatedAt: iso(m.updatedAtMs),
  entries: m.entries,
  exitReason: m.exitReason,
  waitingFor: m.waitingFor,
  arms: m.arms,
});

const toWorkView = (w: WorkRecord) => ({
  key: w.key,
  trigger: w.trigger,
  dueAt: iso(w.dueAtMs),
  status: w.status,
  note: w.note,
  updatedAt: iso(w.updatedAtMs),
});

/** The decisions API (admin bearer token): decisions, and a customer's journeys and due work. */
export const registerDecisionRoutes = (
  app: FastifyInstance,
  services: Services,
  access: Access,
): void => {
  const { store } = services;
  const admin = allow(access, READ);
  const customerOf = async (userId: string): Promise<CustomerId> => {
    const id = await store.resolveUserId(userId);
    if (id === undefined) throw new AppError('not-found', `no customer with userId "${userId}"`);
    return id;
  };
  /**
   * Where a page starts: a `next` carries the position itself (`<createdAtMs>_<id>`), so a page
   * after a decision erased since (its customer's) goes on where it was; a bare decision id,
   * as pages answered before, is looked up. One that names nothing is a 400, not an empty page
   * a client would read as the end.
   */
  const decisionCursorOf = async (before: string): Promise<{ createdAtMs: number; id: string }> => {
    const position = /^(\d{1,16})_(.+)$/.exec(before);
    if (position !== null) return { createdAtMs: Number(position[1]), id: position[2] ?? '' };
    const anchor = await store.getDecision(before);
    if (anchor === undefined)
      throw new AppError('invalid-input', `before names no decision: "${before.slice(0, 80)}"`, {
        problems: [{ path: '/querystring/before', message: 'pass the `next` of the page before' }],
      });
    return { createdAtMs: anchor.createdAtMs, id: anchor.id };
  };
  app.get<{
    Querystring: {
      customerId?: string;
      agent?: string;
      status?: string;
      before?: string;
      limit: number;
    };
  }>(
    '/v1/decisions',
    {
      ...admin,
      schema: {
        querystring: Type.Object({
          customerId: Type.Optional(Type.String({ minLength: 1 })),
          agent: Type.Optional(Type.Union(decisionAgents.map((a) => Type.Literal(a)))),
          status: Type.Optional(
            Type.Union(
              ['scheduled', 'skipped', 'escalated', 'cancelled'].map((s) => Type.Literal(s)),
            ),
          ),
          before: Type.Optional(
            Type.String({
              minLength: 1,
              description: 'The `next` of the page before (or a decision id): the page after it.',
            }),
          ),
          limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
        }),
      },
    },
    async (request) => {
      const q = request.query;
      const customerId = q.customerId === undefined ? undefined : await customerOf(q.customerId);
      const before = q.before === undefined ? undefined : await decisionCursorOf(q.before);
      const decisions = await store.listDecisions({
        limit: q.limit,
        ...(customerId === undefined ? {} : { customerId }),
        ...(q.agent === undefined ? {} : { agent: q.agent }),
        ...(q.status === undefined ? {} : { status: q.status }),
        ...(before === undefined ? {} : { before }),
      });
      const last = decisions.at(-1);
      return {
        decisions: decisions.map(toDecisionView),
        next:
          decisions.length === q.limit && last !== undefined
            ? `${String(last.createdAtMs)}_${last.id}`
            : null,
      };
    },
  );
  app.post<{
    Body: {
      id: string;
      template: string;
      channels: Channel[];
      segment?: string;
      sendAt?: string;
      incentive?: { percent: number; validHours: number };
      budget?: number | null;
      holdoutPercent?: number;
      stratify?: boolean;
      creative?: { query?: string };
    };
  }>(
    '/v1/campaigns',
    {
      ...allow(access, MARKET),
      schema: {
        body: Type.Object(
          {
            id: Type.String({ pattern: CAMPAIGN_ID_PATTERN }),
            template: Type.String({ minLength: 1 }),
            channels: Type.Array(
              Type.Union(['email', 'sms', 'whatsapp', 'push', 'web'].map((c) => Type.Literal(c))),
              { minItems: 1, uniqueItems: true },
            ),
            segment: Type.Optional(Type.Union(segmentNames.map((n) => Type.Literal(n)))),
            sendAt: Type.Optional(Type.String({ format: 'date-time' })),
            incentive: Type.Optional(
              Type.Object(
                {
                  percent: Type.Number({ exclusiveMinimum: 0, maximum: 100 }),
                  validHours: Type.Integer({ minimum: 1, maximum: MAX_CODE_VALID_HOURS }),
                },
                { additionalProperties: false },
              ),
            ),
            budget: Type.Optional(
              Type.Union(
                [
                  Type.Number({
                    exclusiveMinimum: 0,
                    description: 'What sending may cost (major units); the campaign pauses at it.',
                  }),
                  Type.Null({ description: 'no cap (on a relaunch: the cap lifted)' }),
                ],
                {
                  description:
                    'What sending may cost; left out of a relaunch, the budget it has stays.',
                },
              ),
            ),
            holdoutPercent: Type.Optional(
              Type.Number({
                minimum: 0,
                maximum: 50,
                description: 'Percent of the audience held out of the campaign, as its baseline.',
              }),
            ),
            stratify: Type.Optional(
              Type.Boolean({
                description: 'Split the variants within each RFM segment separately.',
              }),
            ),
            creative: Type.Optional(
              Type.Object(
                { query: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })) },
                { additionalProperties: false },
              ),
            ),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      const b = request.body;
      // Refused now, not found out message by message as each is blocked with no_template.
      const template = services.guard.renderer.templateOf(b.template);
      if (template === undefined)
        throw new AppError('invalid-input', `no template named "${b.template}"`, {
          problems: [{ path: '/template', message: `no template named "${b.template}"` }],
        });
      // Written copy replaces the template: an incentive with creative is refused on its own.
      if (b.incentive !== undefined && b.creative === undefined)
        refuseUnprintedCode(template, b.channels, '/incentive');
      const nowMs = services.clock.nowMs();
      // Read as every date the API takes: a time the calendar does not have (`23:59:60`), or a
      // year past 9999, is a 400 naming the field, not a campaign scheduled at NaN.
      const sendAtMs = b.sendAt === undefined ? nowMs : parseDateInput(b.sendAt, 'sendAt');
      // Creative: variants written now, from the approved library as it will stand at the send
      // time (a Friday send launched on Monday cites what is in force on Friday), one per
      // customer by hash.
      const launched = await launchCampaign(
        store,
        services.decide,
        {
          id: b.id,
          template: b.template,
          channels: b.channels,
          segment: b.segment ?? null,
          incentive: b.incentive ?? null,
          sendAtMs,
          // Left out, a relaunch keeps the budget the campaign has; null lifts it.
          ...(b.budget === undefined ? {} : { budget: b.budget }),
          ...(b.holdoutPercent === undefined ? {} : { holdoutPercent: b.holdoutPercent }),
          ...(b.stratify === true ? { stratify: true } : {}),
        },
        b.creative === undefined
          ? null
          : { query: b.creative.query ?? null, writing: services.campaignWriting(nowMs) },
        nowMs,
      );
      const { audience, alreadyScheduled, resumed, creative } = launched;
      services.worker.nudge();
      return reply.code(202).send({
        campaignId: b.id,
        audience,
        alreadyScheduled,
        resumed,
        sendAt: iso(sendAtMs),
        ...(creative === null
          ? {}
          : {
              variants: creative.variants.map((v) => ({
                id: v.id,
                strategy: v.strategy,
                subject: v.subject,
                citations: v.citations,
                generator: v.generator,
                scores: v.scores,
                // Its share of the traffic against the others' (more for what won before).
                weight: v.weight ?? 1,
                validUntil:
                  v.validUntilMs === undefined || v.validUntilMs === null
                    ? null
                    : iso(v.validUntilMs),
              })),
              refused: creative.refused,
              usage: creative.usage,
              fallback: creative.fallback,
            }),
      });
    },
  );
  // What a campaign is and where it stands: its definition, spend, messages by status, and
  // whether it waits at its budget (a relaunch with a higher one resumes it).
  app.get<{ Params: { id: string } }>('/v1/campaigns/:id', admin, async (request) => {
    const status = await campaignStatus(store, request.params.id);
    if (status === null) throw new AppError('not-found', `no campaign ${request.params.id}`);
    const { definition, ...rest } = status;
    if (definition === null) return { ...rest, definition: null };
    const { sendAtMs, ...kept } = definition;
    return { ...rest, definition: { ...kept, firstSendAt: iso(sendAtMs) } };
  });
  app.get<{ Params: { id: string } }>('/v1/decisions/:id', admin, async (request) => {
    const decision = await store.getDecision(request.params.id);
    if (decision === undefined) throw new AppError('not-found', `no decision ${request.params.id}`);
    return toDecisionView(decision);
  });
  app.get<{ Params: { userId: string } }>(
    '/v1/customers/:userId/journeys',
    admin,
    async (request) => {
      const memberships = await store.listMemberships(await customerOf(request.params.userId));
      return { journeys: memberships.map(toMembershipView) };
    },
  );
  app.get<{ Params: { userId: string }; Querystring: { limit: number } }>(
    '/v1/customers/:userId/work',
    {
      ...admin,
      schema: {
        querystring: Type.Object({
          limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
        }),
      },
    },
    async (request) => {
      const work = await store.listWork(
        await customerOf(request.params.userId),
        request.query.limit,
      );
      return { work: work.map(toWorkView) };
    },
  );
};
