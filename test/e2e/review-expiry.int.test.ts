import { describe, expect, it } from 'vitest';
import { createSqliteStore } from '../../src/adapters/storage/sqlite/create-sqlite-store.js';
import { aDecision, aSentMessage } from '../support/builders.js';
import { expireReviews } from '../../src/pipeline/act-on-messages.js';

describe('expireReviews', () => {
  it('expires every item past its deadline, however many chunks they take', async () => {
    const store = await createSqliteStore({ file: ':memory:', synchronous: 'normal' });
    try {
      const t0 = Date.UTC(2026, 5, 3, 12);
      const waiting = Array.from({ length: 7 }, (_, i) =>
        aSentMessage(`m${String(i)}`, `c${String(i)}`, t0, {
          status: 'review',
          // The last is still within its deadline.
          reviewExpiresAtMs: i === 6 ? t0 + 10_000 : t0 + 1000,
        }),
      );
      await store.transaction(async (tx) => {
        await tx.insertDecisions(
          waiting.map((m) => aDecision({ id: m.id, customerId: m.customerId })),
        );
        await tx.insertMessages(waiting);
      });
      expect(await expireReviews(store, t0 + 5000, 2)).toBe(6);
      expect((await store.listMessages({ status: 'review', limit: 10 })).map((m) => m.id)).toEqual([
        'm6',
      ]);
      expect((await store.listMessages({ status: 'expired', limit: 10 })).length).toBe(6);
      expect((await store.reviewCounts())['expire']).toBe(6);
    } finally {
      await store.close();
    }
  });
});
