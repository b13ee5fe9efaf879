import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../app/create-services.js';
import { AppError } from '../../core/errors.js';
import { channels } from '../../core/profile.js';
import { DAY_MS, parseDateInput } from '../../core/time.js';
import {
  experimentDesignOf,
  experimentResults,
  experimentTimeline,
  promoteWinner,
} from '../../pipeline/experiment-results.js';
import { segmentNames } from '../../pipeline/decide/index.js';
import { cartRecoveryWindowMs } from '../../pipeline/decide/policy.js';
import { computeKpis } from '../../pipeline/kpis.js';
import {
  checkRollout,
  readRollout,
  startRollout,
  stepsSinceStart,
} from '../../pipeline/rollout.js';
import { ADMIN, allow, MARKET, READ, type Access } from '../auth.js';

const iso = (ms: number): string => new Date(ms).toISOString();

/** A query's date (ISO-8601), or the default; a date that does not parse names the parameter. */
export const parseDate = (name: string, text: string | undefined, fallbackMs: number): number => {
  if (text === undefined) return fallbackMs;
  try {
    return parseDateInput(text, name);
  } catch (error) {
    // Named where the other errors of a query are: its parameter's path.
    if (!(error instanceof AppError)) throw error;
    const message = error.message.startsWith(`${name}: `)
      ? error.message.slice(name.length + 2)
      : error.message;
    throw new AppError(error.code, error.message, {
      problems: [{ path: `/querystring/${name}`, message }],
    });
  }
};

/** A start's body: none, `{}` or `{ "restart": true|false }`; anything else is refused, named. */
const restartOf = (body: unknown): boolean => {
  if (body === undefined || body === null) return false;
  const problem = (path: string, message: string) =>
    new AppError('invalid-input', `${path}: ${message}`, { problems: [{ path, message }] });
  if (typeof body !== 'object' || Array.isArray(body))
    throw problem('/', 'must be an object: {} or { "restart": true }');
  for (const [key, value] of Object.entries(body)) {
    if (key !== 'restart') throw problem(`/${key}`, 'is not a field of this request (restart is)');
    if (typeof value !== 'boolean') throw problem('/restart', 'must be true or false');
  }
  return (body as { restart?: boolean }).restart === true;
};

/** Experiments, their results and learnings, and the KPIs (viewer and up; promotion: marketer). */
export const registerExperimentRoutes = (
  app: FastifyInstance,
  services: Services,
  access: Access,
): void => {
  const { store } = services;
  const read = allow(access, READ);
  const alphaQuery = {
    querystring: Type.Object({
      alpha: Type.Number({ exclusiveMinimum: 0, maximum: 0.5, default: 0.05 }),
    }),
  };

  app.get('/v1/experiments', read, async () => ({
    experiments: (await store.listExperiments()).map((e) => ({
      id: e.experimentId,
      units: e.units,
      exposed: e.exposed,
      firstAssignedAt: iso(e.firstAssignedAtMs),
      lastAssignedAt: iso(e.lastAssignedAtMs),
    })),
  }));
  const results = (id: string, alpha: number) =>
    experimentResults(store, id, { alpha, nowMs: services.clock.nowMs() });
  app.get<{ Params: { id: string }; Querystring: { alpha: number } }>(
    '/v1/experiments/:id/results',
    { ...read, schema: alphaQuery },
    (request) => results(request.params.id, request.query.alpha),
  );
  // A campaign's experiment is the campaign: the same results under the campaign's path.
  app.get<{ Params: { id: string }; Querystring: { alpha: number } }>(
    '/v1/campaigns/:id/results',
    { ...read, schema: alphaQuery },
    (request) => results(request.params.id, request.query.alpha),
  );
  app.get<{ Params: { id: string }; Querystring: { alpha: number } }>(
    '/v1/experiments/:id/timeline',
    { ...read, schema: alphaQuery },
    async (request) => {
      const design = await experimentDesignOf(store, request.params.id);
      const points = await experimentTimeline(
        store,
        design,
        services.clock.nowMs(),
        request.query.alpha,
      );
      return {
        experimentId: design.id,
        days: points.map(({ dayMs, ...rest }) => ({ day: iso(dayMs).slice(0, 10), ...rest })),
      };
    },
  );
  app.post<{ Params: { id: string } }>(
    '/v1/experiments/:id/promote',
    allow(access, MARKET),
    (request) => promoteWinner(store, request.params.id, services.clock.nowMs()),
  );
  app.get<{ Querystring: { segment?: string; channel?: string } }>(
    '/v1/learnings',
    {
      ...read,
      schema: {
        // A misspelt filter is refused, not answered with an empty list read as nothing learned.
        querystring: Type.Object({
          segment: Type.Optional(
            Type.Union([...segmentNames, 'all'].map((name) => Type.Literal(name))),
          ),
          channel: Type.Optional(Type.Union(channels.map((name) => Type.Literal(name)))),
        }),
      },
    },
    async (request) => ({
      learnings: (await store.listLearnings(request.query)).map(({ createdAtMs, ...l }) => ({
        ...l,
        createdAt: iso(createdAtMs),
      })),
    }),
  );
  const rolloutView = (state: Awaited<ReturnType<typeof readRollout>>) =>
    state === null
      ? { staged: false, percent: 100 }
      : {
          staged: true,
          percent: state.percent,
          stageStartedAt: iso(state.stageStartedAtMs),
          // The current start's steps: earlier starts' are kept for replays of the past.
          history: stepsSinceStart(state).map(({ atMs, salt: _salt, ...h }) => ({
            at: iso(atMs),
            ...h,
          })),
        };
  app.get('/v1/rollout', read, async () => rolloutView(await readRollout(store)));
  app.post('/v1/rollout/start', allow(access, ADMIN), async (request) =>
    rolloutView(
      await startRollout(store, services.clock.nowMs(), { restart: restartOf(request.body) }),
    ),
  );
  app.post<{ Body: { uptime: number; p95LatencyMs?: number } }>(
    '/v1/rollout/check',
    {
      ...allow(access, ADMIN),
      schema: {
        body: Type.Object(
          {
            uptime: Type.Number({
              minimum: 0,
              maximum: 1,
              description: 'the share of the stage Herald was up, from your monitoring',
            }),
            p95LatencyMs: Type.Optional(Type.Number({ minimum: 0 })),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      const observed = services.metrics.recentLagP95().p95Ms;
      const p95LatencyMs = request.body.p95LatencyMs ?? observed;
      if (p95LatencyMs === null)
        throw new AppError(
          'conflict',
          'no decision latency observed by this process yet: pass p95LatencyMs',
        );
      const { decision, health, state } = await checkRollout(store, services.clock.nowMs(), {
        p95LatencyMs,
        uptime: request.body.uptime,
      });
      return { decision, health, rollout: rolloutView(state) };
    },
  );
  app.get<{ Querystring: { from?: string; to?: string } }>(
    '/v1/kpis',
    {
      ...read,
      schema: {
        querystring: Type.Object({
          from: Type.Optional(Type.String()),
          to: Type.Optional(Type.String()),
        }),
      },
    },
    async (request) => {
      const nowMs = services.clock.nowMs();
      const toMs = parseDate('to', request.query.to, nowMs);
      const fromMs = parseDate('from', request.query.from, toMs - 30 * DAY_MS);
      if (!(fromMs < toMs))
        throw new AppError(
          'invalid-input',
          `from (${iso(fromMs)}) must be before to (${iso(toMs)})`,
          {
            problems: [
              { path: '/querystring/from', message: `must be before to (${iso(toMs)})` },
              { path: '/querystring/to', message: `must be after from (${iso(fromMs)})` },
            ],
          },
        );
      return computeKpis(
        store,
        fromMs,
        toMs,
        services.metrics.recentLagP95(),
        cartRecoveryWindowMs(services.config.decidePolicy),
      );
    },
  );
};
