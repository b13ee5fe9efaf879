import { RateLimitedError } from './rate-limit.js';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, httpStatusOf, isAppError } from '../core/errors.js';
import type { Logger } from '../ports/logger.js';

/** The longest path parameter a route takes (signed click links carry their destination). */
export const MAX_PARAM_LENGTH = 4096;

/** Turns any error into `{ success: false, error: { code, message, problems } }` with its status. */
export const toAppError = (error: FastifyError | Error, request: FastifyRequest): AppError => {
  if (isAppError(error)) return error;
  const fastifyError = error as Partial<FastifyError> & Error;
  const code = fastifyError.code ?? '';
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE': {
      const limit = request.routeOptions.bodyLimit;
      const what = /^\/v1\/(?:batch|import)(?:[/?]|$)/.test(request.url)
        ? 'batch'
        : /^\/v1\/(?:identify|track|page|screen|group|alias)(?:[/?]|$)/.test(request.url)
          ? 'single-event'
          : 'request';
      // A compressed body is held to the limit as sent as well as once decompressed.
      const encoding = request.headers['content-encoding']?.trim().toLowerCase() ?? '';
      const counted =
        encoding === '' || encoding === 'identity'
          ? 'after decompression'
          : 'as sent and after decompression';
      return new AppError(
        'payload-too-large',
        `the request body exceeds the ${Math.round(limit / 1024)} KB ${what} limit (${limit} bytes ${counted})`,
      );
    }
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new AppError(
        'uri-too-long',
        `a path parameter of ${request.url.slice(0, 40)}… is longer than the ${String(MAX_PARAM_LENGTH)} characters a path may carry`,
      );
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new AppError('invalid-input', fastifyError.message);
    default:
      break;
  }
  // zlib's errors (Z_DATA_ERROR, Z_BUF_ERROR …) mean the compressed body is broken.
  if (code.startsWith('Z_')) {
    const encoding = String(request.headers['content-encoding']);
    return new AppError(
      'invalid-input',
      `the body is not valid ${encoding} data: ${fastifyError.message}`,
    );
  }
  const status = fastifyError.statusCode;
  if (status === 404) return new AppError('not-found', fastifyError.message);
  if (status !== undefined && status >= 400 && status < 500)
    return new AppError('invalid-input', fastifyError.message);
  return new AppError('internal', 'internal error', { cause: error });
};

export const sendError = (
  error: AppError,
  reply: FastifyReply,
  logger: Logger,
  extra: object = {},
): FastifyReply => {
  const status = httpStatusOf[error.code];
  if (error instanceof RateLimitedError)
    void reply.header('retry-after', String(error.retryAfterSeconds));
  if (status >= 500)
    logger.error({ err: error.cause ?? error, code: error.code }, 'request failed');
  return reply.status(status).send({
    success: false,
    error: { code: error.code, message: error.message, problems: error.problems },
    ...extra,
  });
};
