import { afterEach, describe, expect, it } from 'vitest';
import { createVirtualClock, type VirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import { toCustomerId } from '../../src/core/ids.js';
import type { MessageRecord } from '../../src/core/message.js';
import { HOUR_MS, MINUTE_MS } from '../../src/core/time.js';
import { ingestCall, startHerald, type TestHerald } from '../support/start-herald.js';
import { storeFactories } from '../support/stores.js';

const T0 = Date.UTC(2026, 5, 3, 12);

// What the caps and the cadence count: messages that will leave, not those withdrawn.
for (const factory of storeFactories) {
  describe.skipIf(!factory.available)(`what the caps count (${factory.name})`, () => {
    let herald: TestHerald;
    let clock: VirtualClock;
    afterEach(async () => {
      await herald.close();
    });
    const post = (route: string, body: object) => ingestCall(herald, clock, route, body);
    const messagesOf = (userId: string): Promise<MessageRecord[]> =>
      herald.services.store.listMessages({ customerId: toCustomerId(userId), limit: 100 });

    it('counts no message the same round cancels: the order’s thanks is not held back by the cart offer it cancels', async () => {
      clock = createVirtualClock(T0);
      // Cart offers up to 30 % go without review, so the offer is queued.
      herald = await startHerald(factory, {
        clock,
        configYaml: 'guard:\n  discount:\n    reviewFromPercent: 30\n    blockAbovePercent: 40\n',
      });
      // A weekly cadence: one marketing message a week.
      await post('identify', {
        userId: 'wu',
        traits: { email: 'wu@example.com', firstName: 'Wu', preferences: { cadence: 'weekly' } },
      });
      await post('track', {
        userId: 'wu',
        event: 'Product Added',
        properties: { product_id: 'p1', name: 'Mug', price: 30, quantity: 1 },
      });
      clock.set(T0 + 2 * HOUR_MS);
      await herald.services.worker.runDue();
      const offer = (await messagesOf('wu')).find((m) => m.agent === 'cart');
      expect(offer?.status).toBe('queued');
      // The order comes before the offer leaves: it cancels the offer, and thanks the customer.
      clock.set(T0 + 2 * HOUR_MS + MINUTE_MS);
      await post('track', {
        userId: 'wu',
        event: 'Order Completed',
        properties: { order_id: 'o-1', total: 30 },
      });
      await herald.services.worker.runDue();
      const after = await messagesOf('wu');
      expect(after.find((m) => m.agent === 'cart')?.status).toBe('cancelled');
      expect(after.find((m) => m.agent === 'milestone')).toMatchObject({ status: 'queued' });
    });
  });
}
