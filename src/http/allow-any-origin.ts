import type { onSendHookHandler } from 'fastify';

/**
 * An `onSend` hook that lets any page read the answer (`Access-Control-Allow-Origin: *`),
 * errors included: for the routes a browser calls with the public write key. No credentials are
 * allowed with it, so no cookie of the customer's goes along.
 */
export const allowAnyOrigin: onSendHookHandler = (_request, reply, payload, done) => {
  void reply.header('access-control-allow-origin', '*');
  done(null, payload);
};
