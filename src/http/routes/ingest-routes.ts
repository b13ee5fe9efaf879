import type { FastifyInstance } from 'fastify';
import { AppError } from '../../core/errors.js';
import { verifyUserSignature } from '../../core/signed-token.js';
import type { EventType } from '../../core/event.js';
import { ingestRequest } from '../../pipeline/stages.js';
import type { Services } from '../../app/create-services.js';
import { refuseUnknownBasicKey, sourceOf } from '../auth.js';
import { sendError } from '../send-error.js';
import { allowAnyOrigin, answerPreflight } from '../allow-any-origin.js';

const routes: (EventType | 'batch' | 'import')[] = [
  'identify',
  'track',
  'page',
  'screen',
  'group',
  'alias',
  'batch',
  // Segment's path for historical batches, where its Ruby library sends every batch.
  'import',
];

/**
 * The invalid events an answer lists (the first ones; `rejectedCount` counts them all): a
 * 500 KB batch of 255,000 bare `0`s, 548 bytes gzipped, otherwise made an answer of 41 MB.
 */
export const MAX_REJECTIONS_LISTED = 100;

/** The Segment HTTP tracking API: `POST /v1/<call>`, `/v1/batch` and `/v1/import`. */
export const registerIngestRoutes = (app: FastifyInstance, services: Services): void => {
  const { config, clock, ids, metrics, logger } = services;
  const deps = { recorder: services.recorder, limits: config.ingestLimits };
  const verifyUser = (userId: string, signature: unknown) =>
    verifyUserSignature(services.linkSecret, userId, signature);
  for (const route of routes) {
    answerPreflight(app, `/v1/${route}`, ['POST']);
    app.post(
      `/v1/${route}`,
      {
        bodyLimit:
          route === 'batch' || route === 'import'
            ? config.ingestLimits.maxBatchBytes
            : config.ingestLimits.maxEventBytes,
        onRequest: (request, _reply, done) => {
          try {
            refuseUnknownBasicKey(request, config.writeKeys);
            done();
          } catch (error) {
            done(error as Error);
          }
        },
        // Browsers post here (a site's tracking script, personalize.js): its answer, an error
        // included, is readable by the page, as the write key in it is public anyway.
        onSend: allowAnyOrigin,
      },
      async (request, reply) => {
        const sourceId = sourceOf(request, config.writeKeys);
        const receivedAtMs = clock.nowMs();
        const call = route === 'import' ? 'batch' : route;
        const outcome = await ingestRequest(deps, request.body, call, {
          sourceId,
          receivedAtMs,
          newMessageId: () => `herald-${ids.next()}`,
          ...(config.verifiedSources.has(sourceId) ? { verifyUser } : {}),
        });
        const { parsed } = outcome;
        metrics.countEvents('stored', outcome.stored);
        metrics.countEvents('duplicate', outcome.duplicates);
        metrics.countEvents('rejected', parsed.rejected.length);
        const rejected = parsed.rejected.slice(0, MAX_REJECTIONS_LISTED).map((r) => ({
          index: r.index,
          messageId: r.messageId,
          errors: r.problems,
        }));
        const rejectedCount = parsed.rejected.length;
        if (parsed.problems.length > 0 || parsed.events.length === 0) {
          const problems = (
            parsed.problems.length > 0 ? parsed.problems : rejected.flatMap((r) => r.errors)
          ).slice(0, MAX_REJECTIONS_LISTED);
          const message =
            parsed.tooLarge === true
              ? 'the batch is too large to store'
              : parsed.problems.length > 0
                ? 'the request is not a valid batch'
                : call === 'batch'
                  ? rejectedCount > MAX_REJECTIONS_LISTED
                    ? `no event in the batch is valid (${String(rejectedCount)} events; the first ${String(MAX_REJECTIONS_LISTED)} are listed)`
                    : 'no event in the batch is valid'
                  : 'the event is not valid';
          const code = parsed.tooLarge === true ? 'payload-too-large' : 'invalid-input';
          return sendError(new AppError(code, message, { problems }), reply, logger, {
            rejected,
            rejectedCount,
          });
        }
        return reply.send({
          success: true,
          accepted: outcome.stored + outcome.duplicates,
          stored: outcome.stored,
          duplicates: outcome.duplicates,
          rejected,
          rejectedCount,
        });
      },
    );
  }
};
