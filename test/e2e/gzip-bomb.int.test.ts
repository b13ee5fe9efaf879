import { once } from 'node:events';
import type { Gunzip } from 'node:zlib';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { TestHerald } from '../support/start-herald.js';

// A gzip bomb: a small body that inflates far past the batch limit. Each decoder Herald makes
// is kept here, to see how much of the body it went on to read after the answer.
const { decoders } = vi.hoisted(() => ({ decoders: [] as Gunzip[] }));
vi.mock('node:zlib', async (importOriginal) => {
  const zlib = await importOriginal<typeof import('node:zlib')>();
  return {
    ...zlib,
    createGunzip: (...args: Parameters<typeof zlib.createGunzip>) => {
      const decoder = zlib.createGunzip(...args);
      decoders.push(decoder);
      return decoder;
    },
  };
});

// Test files share their worker's modules (vitest.config.ts): Herald's (the stores' too, so
// that both sides share one copy of each module) are loaded afresh here, so that they import
// the node:zlib above rather than one another file loaded first.
vi.resetModules();
const { basicAuth, startHerald } = await import('../support/start-herald.js');
const { storeFactories } = await import('../support/stores.js');

const clock = { nowMs: () => Date.UTC(2026, 5, 1, 12) };
// 100 MB of zeros: about 100 KB gzipped, 200 times the 500 KB batch limit once inflated.
const bomb = gzipSync(Buffer.alloc(100_000_000));

for (const factory of storeFactories) {
  describe.skipIf(!factory.available)(`a gzip bomb (${factory.name})`, () => {
    let herald: TestHerald;
    beforeEach(async () => {
      decoders.length = 0;
      herald = await startHerald(factory, { clock });
    });
    afterEach(async () => {
      await herald.close();
    });
    const post = (authorization: string) =>
      herald.app.inject({
        method: 'POST',
        url: '/v1/batch',
        headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', authorization },
        payload: bomb,
      });

    it('stops inflating once the 413 is out', async () => {
      const res = await post(basicAuth());
      expect(res.statusCode).toBe(413);
      const [decoder] = decoders;
      if (decoder === undefined) throw new Error('no decoder was made');
      if (!decoder.destroyed) await once(decoder, 'close');
      // Each input byte of the bomb inflates to about a thousand: stopped at the limit, the
      // decoder has taken in a sliver of the body, not all of it.
      expect(decoder.bytesWritten).toBeLessThan(bomb.length / 10);
    });

    it('refuses an unknown write key before decoding anything', async () => {
      const res = await post(`Basic ${Buffer.from('not-a-write-key:').toString('base64')}`);
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ error: { message: 'unknown write key' } });
      expect(decoders).toEqual([]);
    });
  });
}
