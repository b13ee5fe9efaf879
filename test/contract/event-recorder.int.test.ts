import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { toCustomerId, toMessageId } from '../../src/core/ids.js';
import { createEventRecorder } from '../../src/pipeline/profile/index.js';
import { aTrack, defaultPolicy, t0 } from '../../src/pipeline/profile/test-builders.js';
import type { Store } from '../../src/ports/store.js';
import { storeFactories } from '../support/stores.js';

for (const factory of storeFactories)
  describe.skipIf(!factory.available)(`event recorder (group commit) on ${factory.name}`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    let transactions: number;
    beforeEach(async () => {
      const made = await factory.make();
      cleanup = made.cleanup;
      const real = made.store;
      transactions = 0;
      // Counts transactions and fails any that carries the message id "poison".
      store = {
        ...real,
        transaction: (work) =>
          real.transaction((tx) => {
            transactions += 1;
            return work({
              ...tx,
              insertEvents: (events) => {
                if (events.some((e) => e.messageId === 'poison')) throw new Error('poisoned batch');
                return tx.insertEvents(events);
              },
            });
          }),
      };
    });
    afterEach(async () => {
      await cleanup();
    });
    const event = (id: string, userId = 'u1') =>
      aTrack('Email Opened', {}, { messageId: toMessageId(id), userId });

    it('commits concurrent batches together and tells each caller about its own events', async () => {
      const recorder = createEventRecorder(store, defaultPolicy());
      const seed = recorder.record([event('seed')], t0);
      const outcomes = await Promise.all([
        recorder.record([event('a1'), event('a2')], t0),
        recorder.record([event('seed'), event('b1', 'u2')], t0),
        recorder.record([event('c1', 'u3')], t0),
      ]);
      expect(outcomes).toEqual([
        { stored: 2, duplicates: 0 },
        { stored: 1, duplicates: 1 },
        { stored: 1, duplicates: 0 },
      ]);
      await seed;
      // The seed starts alone; the three that arrive while it runs share the next transaction.
      expect(transactions).toBe(2);
      expect((await store.getProfile(toCustomerId('u1')))?.state.eventCount).toBe(3);
    });

    it('links and merges nobody for a retried event whose ids changed', async () => {
      const recorder = createEventRecorder(store, defaultPolicy());
      const anonymous = (id: string, anonymousId: string) =>
        aTrack('Page Viewed', {}, { messageId: toMessageId(id), userId: null, anonymousId });
      const both = (id: string, userId: string, anonymousId: string) =>
        aTrack('Email Opened', {}, { messageId: toMessageId(id), userId, anonymousId });
      await recorder.record([event('m1', 'u1'), anonymous('p1', 'B'), anonymous('p2', 'C')], t0);
      // A client reusing a messageId: the retry names another user and a visitor.
      expect(await recorder.record([both('m1', 'u2', 'B')], t0)).toEqual({
        stored: 0,
        duplicates: 1,
      });
      // The same within one batch: the second of a messageId counts once, the first stands.
      expect(await recorder.record([event('m2', 'u3'), both('m2', 'u4', 'C')], t0)).toEqual({
        stored: 1,
        duplicates: 1,
      });
      for (const id of ['u2', 'u4'])
        expect(await store.getProfile(toCustomerId(id))).toBeUndefined();
      for (const visitor of ['anon:B', 'anon:C'])
        expect((await store.getProfile(toCustomerId(visitor)))?.state.eventCount).toBe(1);
    });

    it('retries a failed shared transaction batch by batch, so only the bad batch fails', async () => {
      const recorder = createEventRecorder(store, defaultPolicy());
      const first = recorder.record([event('x0')], t0);
      const results = await Promise.allSettled([
        recorder.record([event('x1')], t0),
        recorder.record([event('poison')], t0),
        recorder.record([event('x2', 'u2')], t0),
      ]);
      await first;
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect((await store.getProfile(toCustomerId('u1')))?.state.eventCount).toBe(2);
      expect((await store.getProfile(toCustomerId('u2')))?.state.eventCount).toBe(1);
    });

    it('never puts more than maxEvents in one transaction unless one batch alone is larger', async () => {
      const recorder = createEventRecorder(store, defaultPolicy(), { maxEvents: 3 });
      const first = recorder.record([event('y0')], t0);
      await Promise.all([
        first,
        recorder.record([event('y1'), event('y2')], t0),
        recorder.record([event('y3'), event('y4')], t0),
        recorder.record([event('y5'), event('y6'), event('y7'), event('y8')], t0),
      ]);
      expect(transactions).toBe(4); // y0 alone, then one batch each: 2+2 > 3, 2+4 > 3
    });
  });
