import type * as AjvCompilerPackage from '@fastify/ajv-compiler';
import type * as FastifyPackage from 'fastify';
import type { FastifyInstance } from 'fastify';
import { onFirstUse } from '../core/on-first-use.js';
import type { Services } from '../app/create-services.js';
import { AppError } from '../core/errors.js';
import { findBadText } from '../core/find-bad-text.js';
import { tooDeepAt } from '../core/json-depth.js';
import { registerBodyReading } from './read-body.js';
import { registerIngestRoutes } from './routes/ingest-routes.js';
import { registerProfileRoutes } from './routes/profile-routes.js';
import { registerDecisionRoutes } from './routes/decision-routes.js';
import { registerModelRoutes } from './routes/model-routes.js';
import { registerMessageRoutes } from './routes/message-routes.js';
import { registerTrackingRoutes } from './routes/tracking-routes.js';
import { registerExperimentRoutes } from './routes/experiment-routes.js';
import { MAX_PARAM_LENGTH, sendError, toAppError } from './send-error.js';
import type { Access } from './auth.js';
import { createRateLimiter } from './rate-limit.js';
import { schemaErrorOf } from './schema-errors.js';

const fastify = onFirstUse<typeof FastifyPackage>('fastify');
const ajvCompiler = onFirstUse<typeof AjvCompilerPackage>('@fastify/ajv-compiler');

/** How long `/healthz` waits for the database before it answers 503. */
const HEALTH_DEADLINE_MS = 2_000;

/** Builds the HTTP API (not yet listening); `inject()` drives it in tests. */
/**
 * How long a request may take to arrive, headers and body (Node checks every 30 s, so one is cut
 * off within 150 s): a 500 KB batch over a slow mobile link takes well under it. Without it a
 * client that sends its headers and then trickles its body, or nothing, held its socket open
 * for ever, and enough of them use up the process's sockets and memory.
 */
export const REQUEST_TIMEOUT_MS = 120_000;

export const createServer = (services: Services): FastifyInstance => {
  const app = fastify().fastify({
    logger: false,
    bodyLimit: services.config.ingestLimits.maxBatchBytes,
    // Only the request's arrival: a socket timeout would also cut off an answer that takes long
    // to work out (an export of a long history). Node closes a connection whose headers take
    // more than 60 s, and an idle kept-alive one after Fastify's 72 s.
    requestTimeout: REQUEST_TIMEOUT_MS,
    // Signed click links carry their destination: path parameters far longer than 100 chars.
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    schemaErrorFormatter: schemaErrorOf,
    // A path that is no URL (`/v1/profiles/%ZZ`) is answered in Herald's error shape too.
    frameworkErrors: (error, request, reply) => {
      void sendError(toAppError(error, request), reply, services.logger);
    },
  });
  // A property a route does not know is refused, not dropped: a campaign with `segmnet` would
  // otherwise go to everyone. A JSON body's values are taken as they are typed: coerced, a
  // `null` would read as `false` or 0 (`{"doNotSell": null}` undoing an opt-out of sale), so a
  // wrong type is refused with its path. Query strings and path parameters are text, read as
  // the numbers and booleans their schemas ask for.
  const compilers = ajvCompiler().AjvCompiler();
  const asTyped = compilers({}, { customOptions: { removeAdditional: false, coerceTypes: false } });
  const fromText = compilers({}, { customOptions: { removeAdditional: false } });
  app.setValidatorCompiler((route) =>
    route.httpPart === 'body' ? asTyped(route) : fromText(route),
  );
  // A query parameter an admin route does not read is refused, as an unknown body field is:
  // `GET /v1/decisions?agnet=cart` would otherwise list every agent's decisions. (The tracking
  // routes and webhooks take what senders and mail clients add.)
  app.addHook('onRoute', (route) => {
    if (route.config?.adminApi !== true) return;
    const query = route.schema?.querystring as Record<string, unknown> | undefined;
    route.schema = {
      ...route.schema,
      querystring:
        query === undefined
          ? { type: 'object', properties: {}, additionalProperties: false }
          : { ...query, additionalProperties: query['additionalProperties'] ?? false },
    };
    // A number in a query is written in digits: converted as JavaScript reads text, `0x10`,
    // `1e2`, `0b11` and ` 10` were taken for 16, 100, 3 and 10.
    const numbers = numberFieldsOf(query);
    if (numbers.length > 0) {
      const hooks = route.preValidation;
      route.preValidation = [
        ...(hooks === undefined ? [] : Array.isArray(hooks) ? hooks : [hooks]),
        (request, _reply, done) => {
          done(notDigitsIn(request.query, numbers) ?? undefined);
        },
      ];
    }
  });
  registerBodyReading(app);
  const access: Access = {
    tokens: services.config.tokens,
    limiter: createRateLimiter(services.config.rateLimitPerMinute),
    nowMs: () => services.clock.nowMs(),
  };
  app.setErrorHandler((error, request, reply) =>
    sendError(toAppError(error as Error, request), reply, services.logger),
  );
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({
      success: false,
      error: {
        code: 'not-found',
        message: `no route ${request.method} ${request.url}`,
        problems: [],
      },
    }),
  );
  // Text PostgreSQL cannot store (NUL, an unpaired surrogate) in a path parameter, a query or
  // a body a route's schema reads is bad input, named where it sits, on every store alike.
  // (The tracking routes judge their bodies event by event: they have no body schema.)
  app.addHook('preValidation', (request, _reply, done) => {
    const places: [unknown, string][] = [
      [request.params, '/params'],
      [request.query, '/querystring'],
      // A body nested too deeply to serialise is the route's to refuse, naming where.
      ...(request.routeOptions.schema?.body === undefined || tooDeepAt(request.body, '') !== null
        ? []
        : // The body's fields are named as every other problem with them is: from its root.
          ([[request.body, '']] as [unknown, string][])),
    ];
    const problem = findBadText(JSON.stringify(places.map(([value]) => value)), () => places);
    done(
      problem === null
        ? undefined
        : new AppError(
            'invalid-input',
            `${problem.path === '' ? 'the body' : problem.path} ${problem.message}`,
            {
              problems: [problem],
            },
          ),
    );
  });
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    services.metrics.countRequest(route, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
  app.get('/healthz', async (_request, reply) => {
    let timer: NodeJS.Timeout | undefined;
    try {
      // A database that stops answering is unavailable: the probe says so within its deadline
      // rather than hanging with the query.
      await Promise.race([
        services.store.ping(),
        new Promise((_resolve, reject) => {
          timer = setTimeout(() => {
            reject(
              new Error(`the database did not answer within ${String(HEALTH_DEADLINE_MS)} ms`),
            );
          }, HEALTH_DEADLINE_MS);
        }),
      ]);
      clearTimeout(timer);
      return { status: 'ok', database: services.store.driver };
    } catch (error) {
      clearTimeout(timer);
      services.logger.error({ err: error }, 'health check failed');
      return reply.status(503).send({ status: 'unavailable', database: services.store.driver });
    }
  });
  app.get('/metrics', async (_request, reply) =>
    reply.type(services.metrics.contentType).send(await services.metrics.render()),
  );
  registerIngestRoutes(app, services);
  registerProfileRoutes(app, services, access);
  registerDecisionRoutes(app, services, access);
  registerModelRoutes(app, services, access);
  registerExperimentRoutes(app, services, access);
  registerMessageRoutes(app, services, access);
  registerTrackingRoutes(app, services);
  return app;
};

/** The query fields a schema reads as numbers (`integer` or `number`). */
const numberFieldsOf = (query: Record<string, unknown> | undefined): string[] => {
  const properties = query?.['properties'];
  if (typeof properties !== 'object' || properties === null) return [];
  return Object.entries(properties as Record<string, { type?: unknown }>)
    .filter(([, field]) => field.type === 'integer' || field.type === 'number')
    .map(([name]) => name);
};

const DIGITS = /^-?[0-9]+(?:\.[0-9]+)?$/;

/** A 400 naming the first of `fields` whose text in the query is not a number in digits. */
const notDigitsIn = (query: unknown, fields: readonly string[]): AppError | null => {
  if (typeof query !== 'object' || query === null) return null;
  for (const name of fields) {
    const written = (query as Record<string, unknown>)[name];
    if (typeof written !== 'string' || DIGITS.test(written)) continue;
    const path = `/querystring/${name}`;
    const message = `must be a number written in digits, not ${JSON.stringify(written)}`;
    return new AppError('invalid-input', `${path} ${message}`, { problems: [{ path, message }] });
  }
  return null;
};
