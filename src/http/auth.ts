import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../core/errors.js';
import type { SourceId } from '../core/ids.js';

const sameText = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** The write key from HTTP Basic (username, as Segment's SDKs send it) or the body's `writeKey`. */
export const sourceOf = (
  request: FastifyRequest,
  writeKeys: ReadonlyMap<string, SourceId>,
): SourceId => {
  let key: string | undefined;
  const header = request.headers.authorization;
  if (header?.startsWith('Basic ') === true) {
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    key = decoded.split(':')[0];
  }
  const body = request.body;
  if ((key === undefined || key === '') && typeof body === 'object' && body !== null) {
    const fromBody = (body as Record<string, unknown>)['writeKey'];
    if (typeof fromBody === 'string') key = fromBody;
  }
  if (key === undefined || key === '') {
    throw new AppError(
      'unauthorized',
      'no write key: send it as the HTTP Basic username or as "writeKey" in the body',
    );
  }
  const source = writeKeys.get(key);
  if (source === undefined) throw new AppError('unauthorized', 'unknown write key');
  return source;
};

/** Checks `Authorization: Bearer <admin token>`. */
export const requireAdmin = (request: FastifyRequest, token: string): void => {
  const header = request.headers.authorization ?? '';
  if (!header.startsWith('Bearer ') || !sameText(header.slice(7), token)) {
    throw new AppError(
      'unauthorized',
      'the admin API needs "Authorization: Bearer <HERALD_ADMIN_TOKEN>"',
    );
  }
};

/**
 * Route options that require the admin token. The check belongs to the routes themselves, never
 * to a match on the raw URL: the router decodes paths, so `/v1/%70rofiles/…` reaches them too.
 */
export const adminOnly = (token: string) => ({
  onRequest: (request: FastifyRequest, _reply: unknown, done: () => void) => {
    requireAdmin(request, token);
    done();
  },
});
