import { createGunzip, createInflate } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../core/errors.js';

/**
 * Accepts gzip- and deflate-encoded bodies (RudderStack's SDK gzips) and parses JSON with errors
 * that say where the text breaks. Fastify's body limit counts the decompressed bytes.
 */
export const registerBodyReading = (app: FastifyInstance): void => {
  app.addHook('preParsing', (request, reply, payload, done) => {
    const given = request.headers['content-encoding']?.toLowerCase().trim();
    // `x-gzip` is gzip's old name, which a recipient should take as gzip (RFC 9110 §8.4.1.3).
    const encoding = given === 'x-gzip' ? 'gzip' : given;
    if (encoding === undefined || encoding === '' || encoding === 'identity') {
      done(null, payload);
      return;
    }
    if (encoding !== 'gzip' && encoding !== 'deflate') {
      done(
        new AppError(
          'unsupported-media-type',
          `Content-Encoding "${encoding}" is not supported (use gzip, deflate or none)`,
        ),
      );
      return;
    }
    const decoder = encoding === 'gzip' ? createGunzip() : createInflate();
    // Fastify checks Content-Length against the bytes that arrived, not the decoded ones.
    const decoded = Object.assign(payload.pipe(decoder), { receivedEncodedLength: 0 });
    // Fastify stops listening once it has answered (a 413, say) while the request may still feed
    // the decoder; without a listener of its own, a later zlib error would crash the process.
    const stop = () => {
      payload.unpipe(decoder);
      payload.resume();
    };
    decoder.on('error', stop);
    // Once the answer is out (a 413 at the limit, most of all), nothing more is decoded: a small
    // gzip bomb would otherwise keep the decoder inflating hundreds of megabytes nobody reads.
    reply.raw.once('close', () => {
      stop();
      decoder.destroy();
    });
    payload.on('data', (chunk: Buffer) => {
      decoded.receivedEncodedLength += chunk.length;
    });
    done(null, decoded);
  });
  app.removeAllContentTypeParsers();
  // Every body is JSON whatever its Content-Type: RudderStack's SDK labels its gzipped JSON
  // application/x-www-form-urlencoded, and browsers send text/plain to avoid a CORS preflight.
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => {
    const text = body as string;
    if (text.trim() === '') {
      done(
        new AppError('invalid-input', 'the request body is empty; send a JSON object'),
        undefined,
      );
      return;
    }
    try {
      done(null, JSON.parse(text));
    } catch (error) {
      done(
        new AppError('invalid-input', `the body is not valid JSON: ${(error as Error).message}`),
        undefined,
      );
    }
  });
};
