import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../core/errors.js';
import type { SourceId } from '../core/ids.js';
import type { Principal, Role } from '../app/load-config.js';
import type { RateLimiter } from './rate-limit.js';

const digestOf = (text: string): Buffer => createHash('sha256').update(text).digest();

/** The scheme of an Authorization header is read in any case (RFC 9110): `bearer`, `BASIC`. */
const credentialsOf = (header: string | undefined, scheme: string): string | undefined =>
  header !== undefined && header.slice(0, scheme.length + 1).toLowerCase() === `${scheme} `
    ? header.slice(scheme.length + 1).trim()
    : undefined;

/** The user name of HTTP Basic credentials (where Segment's SDKs put the write key). */
export const basicUserOf = (header: string | undefined): string | undefined => {
  const basic = credentialsOf(header, 'basic');
  return basic === undefined
    ? undefined
    : Buffer.from(basic, 'base64').toString('utf8').split(':')[0];
};

/**
 * Refuses, before the body is read, a request whose HTTP Basic user names no write key: nothing
 * of an unknown sender's body is decompressed or parsed. Without Basic credentials the key may
 * still come in the body (`sourceOf`).
 */
export const refuseUnknownBasicKey = (
  request: FastifyRequest,
  writeKeys: ReadonlyMap<string, SourceId>,
): void => {
  const key = basicUserOf(request.headers.authorization);
  if (key !== undefined && key !== '' && !writeKeys.has(key))
    throw new AppError('unauthorized', 'unknown write key');
};

/** The write key from HTTP Basic (username, as Segment's SDKs send it) or the body's `writeKey`. */
export const sourceOf = (
  request: FastifyRequest,
  writeKeys: ReadonlyMap<string, SourceId>,
): SourceId => {
  let key = basicUserOf(request.headers.authorization);
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

/** Who may call a route: reading is open to every role; the rest is named per route. */
export const READ: readonly Role[] = ['viewer', 'reviewer', 'marketer', 'admin'];
export const REVIEW: readonly Role[] = ['reviewer', 'admin'];
export const MARKET: readonly Role[] = ['marketer', 'admin'];
export const ADMIN: readonly Role[] = ['admin'];

declare module 'fastify' {
  interface FastifyRequest {
    /** The holder of the request's bearer token, once a role check passed. */
    principal?: Principal;
  }
}

const principalOf = (
  request: FastifyRequest,
  tokens: ReadonlyMap<string, Principal>,
): Principal => {
  const given = credentialsOf(request.headers.authorization, 'bearer');
  if (given !== undefined) {
    // Digests of equal length, every token compared: the time taken tells nothing of a token's
    // length or of which one came close.
    const digest = digestOf(given);
    let found: Principal | undefined;
    for (const [token, principal] of tokens)
      if (timingSafeEqual(digest, digestOf(token)) && found === undefined) found = principal;
    if (found !== undefined) return found;
    // Told apart from a missing header, as the tracking API tells an unknown write key: the
    // token is never repeated.
    throw new AppError(
      'unauthorized',
      'unknown admin token: the bearer token is neither HERALD_ADMIN_TOKEN nor one of HERALD_API_TOKENS',
    );
  }
  throw new AppError(
    'unauthorized',
    'the admin API needs "Authorization: Bearer <token>" (HERALD_ADMIN_TOKEN or one of HERALD_API_TOKENS)',
  );
};

/** The bearer tokens, their rate limiter and the clock it runs on. */
export interface Access {
  tokens: ReadonlyMap<string, Principal>;
  limiter: RateLimiter;
  nowMs: () => number;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A route of the admin API: a query parameter it does not read is refused (`createServer`). */
    adminApi?: true;
  }
}

/**
 * Route options that admit the given roles. The check belongs to the routes themselves, never
 * to a match on the raw URL: the router decodes paths, so `/v1/%70rofiles/…` reaches them too.
 */
export const allow = (access: Access, roles: readonly Role[]) => ({
  config: { adminApi: true as const },
  onRequest: (request: FastifyRequest, _reply: unknown, done: () => void) => {
    const principal = principalOf(request, access.tokens);
    access.limiter.take(principal.name, access.nowMs());
    if (!roles.includes(principal.role))
      throw new AppError(
        'forbidden',
        `${principal.name} (${principal.role}) may not do this: it needs the role ${roles.join(' or ')}`,
      );
    request.principal = principal;
    done();
  },
});

/** The principal a role check admitted (routes behind `allow` always have one). */
export const principalOfRequest = (request: FastifyRequest): Principal => {
  if (request.principal === undefined) throw new AppError('unauthorized', 'no principal');
  return request.principal;
};
