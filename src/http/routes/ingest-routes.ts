import type { FastifyInstance } from 'fastify';
import { AppError } from '../../core/errors.js';
import { verifyUserSignature } from '../../core/signed-token.js';
import type { EventType } from '../../core/event.js';
import { ingestRequest } from '../../pipeline/stages.js';
import type { Services } from '../../app/create-services.js';
import { sourceOf } from '../auth.js';
import { sendError } from '../send-error.js';

const routes: (EventType | 'batch')[] = [
  'identify',
  'track',
  'page',
  'screen',
  'group',
  'alias',
  'batch',
];

/** The Segment HTTP tracking API: `POST /v1/<call>` and `/v1/batch`. */
export const registerIngestRoutes = (app: FastifyInstance, services: Services): void => {
  const { config, clock, ids, metrics, logger } = services;
  const deps = { recorder: services.recorder, limits: config.ingestLimits };
  const verifyUser = (userId: string, signature: unknown) =>
    verifyUserSignature(services.linkSecret, userId, signature);
  for (const route of routes) {
    app.post(
      `/v1/${route}`,
      {
        bodyLimit:
          route === 'batch' ? config.ingestLimits.maxBatchBytes : config.ingestLimits.maxEventBytes,
      },
      async (request, reply) => {
        const sourceId = sourceOf(request, config.writeKeys);
        const receivedAtMs = clock.nowMs();
        const outcome = await ingestRequest(deps, request.body, route, {
          sourceId,
          receivedAtMs,
          newMessageId: () => `herald-${ids.next()}`,
          ...(config.verifiedSources.has(sourceId) ? { verifyUser } : {}),
        });
        const { parsed } = outcome;
        metrics.countEvents('stored', outcome.stored);
        metrics.countEvents('duplicate', outcome.duplicates);
        metrics.countEvents('rejected', parsed.rejected.length);
        const rejected = parsed.rejected.map((r) => ({
          index: r.index,
          messageId: r.messageId,
          errors: r.problems,
        }));
        if (parsed.problems.length > 0 || parsed.events.length === 0) {
          const problems =
            parsed.problems.length > 0
              ? parsed.problems
              : parsed.rejected.flatMap((r) => r.problems);
          const message =
            parsed.problems.length > 0
              ? 'the request is not a valid batch'
              : route === 'batch'
                ? 'no event in the batch is valid'
                : 'the event is not valid';
          return sendError(new AppError('invalid-input', message, { problems }), reply, logger, {
            rejected,
          });
        }
        return reply.send({
          success: true,
          accepted: outcome.stored + outcome.duplicates,
          stored: outcome.stored,
          duplicates: outcome.duplicates,
          rejected,
        });
      },
    );
  }
};
