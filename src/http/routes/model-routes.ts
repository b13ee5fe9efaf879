import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../app/create-services.js';
import type { ModelVersion } from '../../ports/model-store.js';
import { allow, READ, type Access } from '../auth.js';

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** A model version as the API shows it: times as ISO-8601 instead of epoch milliseconds. */
export const toModelView = (m: ModelVersion) => ({
  version: m.version,
  kind: m.kind,
  status: m.status,
  reason: m.reason,
  trainedAt: iso(m.trainedAtMs),
  window: { start: iso(m.windowStartMs), end: iso(m.windowEndMs) },
  features: m.features,
  params: m.params,
  metrics: m.metrics,
  details: m.details,
});

/** The model registry (any role's token): every version with its window, gate and metrics. */
export const registerModelRoutes = (
  app: FastifyInstance,
  services: Services,
  access: Access,
): void => {
  const read = allow(access, READ);
  app.get<{ Querystring: { limit?: number } }>(
    '/v1/models',
    {
      ...read,
      schema: {
        querystring: Type.Object({
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
        }),
      },
    },
    async (request) => {
      const models = await services.store.listModels(request.query.limit ?? 50);
      return { models: models.map(toModelView) };
    },
  );
};
