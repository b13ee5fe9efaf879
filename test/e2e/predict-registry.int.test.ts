import { Value } from '@sinclair/typebox/value';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  profilePolicySchema,
  recordEvents,
  type ProfilePolicy,
} from '../../src/pipeline/profile/index.js';
import type { ModelDraft } from '../../src/ports/model-store.js';
import type { Store } from '../../src/ports/store.js';
import { aTrack } from '../support/builders.js';
import { storeFactories } from '../support/stores.js';

const policy = Value.Default(profilePolicySchema, {}) as ProfilePolicy;

const aDraft = (overrides: Partial<ModelDraft> = {}): ModelDraft => ({
  kind: 'clv',
  status: 'trained',
  reason: null,
  trainedAtMs: Date.UTC(2026, 0, 1),
  windowStartMs: Date.UTC(2025, 0, 1),
  windowEndMs: Date.UTC(2025, 11, 1),
  features: ['frequency', 'recency'],
  params: { bgNbd: { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 } },
  metrics: { holdoutMaePurchases: 0.5 },
  details: { orderingCustomers: 600, gate: { minOrderingCustomers: 500 } },
  ...overrides,
});

for (const factory of storeFactories)
  describe.skipIf(!factory.available)(`the model registry on ${factory.name}`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      ({ store, cleanup } = await factory.make());
    });
    afterEach(async () => {
      await cleanup();
    });

    it('numbers versions from 1 and lists them newest first, as saved', async () => {
      expect(await store.listModels(10)).toEqual([]);
      const first = await store.saveModel(aDraft());
      const second = await store.saveModel(
        aDraft({
          status: 'insufficient-data',
          reason: 'not enough data',
          windowStartMs: null,
          params: {},
        }),
      );
      expect([first.version, second.version]).toEqual([1, 2]);
      const listed = await store.listModels(10);
      expect(listed.map((m) => m.version)).toEqual([2, 1]);
      expect(listed[1]).toEqual({ ...aDraft(), version: 1 });
      expect(listed[0]).toMatchObject({ status: 'insufficient-data', windowStartMs: null });
      expect(await store.getModel(1)).toEqual(listed[1]);
      expect(await store.getModel(3)).toBeUndefined();
      expect(await store.listModels(1)).toHaveLength(1);
    });

    it('pages through the recorded orders by order id', async () => {
      const at = Date.UTC(2025, 5, 1);
      const orders = ['o3', 'o1', 'o2'].map((orderId, i) => ({
        type: 'track' as const,
        name: 'Order Completed',
        userId: `u${i}`,
        properties: { order_id: orderId, total: 10 + i },
        timestampMs: at + i,
      }));
      await recordEvents(
        store,
        orders.map((o) => aTrack(o)),
        policy,
        at + 10,
      );
      const page1 = await store.listOrders(null, 2);
      expect(page1.map((o) => o.orderId)).toEqual(['o1', 'o2']);
      expect(page1[0]).toMatchObject({ customerId: 'u1', totalCents: 1100, placedAtMs: at + 1 });
      const page2 = await store.listOrders('o2', 2);
      expect(page2.map((o) => o.orderId)).toEqual(['o3']);
    });
  });
