import type { FastifyInstance, onSendHookHandler } from 'fastify';

/**
 * An `onSend` hook that lets any page read the answer (`Access-Control-Allow-Origin: *`),
 * errors included: for the routes a browser calls with the public write key. No credentials are
 * allowed with it, so no cookie of the customer's goes along.
 */
export const allowAnyOrigin: onSendHookHandler = (_request, reply, payload, done) => {
  void reply.header('access-control-allow-origin', '*');
  done(null, payload);
};

/**
 * Answers the CORS preflight a browser sends before a call to `path` that carries a header a
 * page may not send unasked — HTTP Basic with the write key (`Authorization`), a JSON or gzip
 * body's `Content-Type` or `Content-Encoding` — so the call itself is let through: `204`, any
 * origin, these methods and headers, kept by the browser for a day. Still no credentials.
 */
export const answerPreflight = (
  app: FastifyInstance,
  path: string,
  methods: readonly ('GET' | 'POST')[],
): void => {
  app.options(path, (_request, reply) =>
    reply
      .code(204)
      .header('access-control-allow-origin', '*')
      .header('access-control-allow-methods', methods.join(', '))
      .header('access-control-allow-headers', 'authorization, content-type, content-encoding')
      .header('access-control-max-age', '86400')
      .send(),
  );
};
