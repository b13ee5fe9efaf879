import { isAscii, isUtf8 } from 'node:buffer';
import { createGunzip, createInflate } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../core/errors.js';

/**
 * The offset of the first byte of `bytes` that does not begin or continue a UTF-8 character as
 * UTF-8 allows (no overlong forms, surrogates or code points past U+10FFFF), or its length.
 */
export const firstNonUtf8Byte = (bytes: Uint8Array): number => {
  for (let i = 0; i < bytes.length;) {
    const lead = bytes[i] ?? 0;
    const length =
      lead < 0x80 ? 1 : lead < 0xc2 ? 0 : lead < 0xe0 ? 2 : lead < 0xf0 ? 3 : lead < 0xf5 ? 4 : 0;
    if (length === 0) return i;
    // The second byte's range narrows after E0, ED, F0 and F4 (RFC 3629, section 4).
    const low = lead === 0xe0 ? 0xa0 : lead === 0xf0 ? 0x90 : 0x80;
    const high = lead === 0xed ? 0x9f : lead === 0xf4 ? 0x8f : 0xbf;
    for (let k = 1; k < length; k += 1) {
      const next = bytes[i + k];
      if (next === undefined) return i;
      if (k === 1 ? next < low || next > high : (next & 0xc0) !== 0x80) return i;
    }
    i += length;
  }
  return bytes.length;
};

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
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => {
    const bytes = body as Buffer;
    // JSON is UTF-8 (RFC 8259): a body in another encoding (Latin-1's "Müller") would be read
    // with its letters replaced by U+FFFD and stored so, under a 200.
    if (!isAscii(bytes) && !isUtf8(bytes)) {
      done(
        new AppError(
          'invalid-input',
          `the body is not UTF-8 (the first byte that cannot be read as UTF-8 is at offset ${String(firstNonUtf8Byte(bytes))}): send JSON encoded as UTF-8`,
        ),
        undefined,
      );
      return;
    }
    const text = bytes.toString('utf8');
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
