import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createVirtualClock, type VirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import { HOUR_MS } from '../../src/core/time.js';
import { sweepProfiles } from '../../src/pipeline/profile/sweep-profiles.js';
import { adminToken, ingestCall, startHerald, type TestHerald } from '../support/start-herald.js';
import { storeFactories } from '../support/stores.js';

const T0 = Date.UTC(2026, 5, 3, 12);
const iso = (ms: number) => new Date(ms).toISOString();

for (const factory of storeFactories) {
  describe.skipIf(!factory.available)(`order cancellations (${factory.name})`, () => {
    let herald: TestHerald;
    let clock: VirtualClock;
    beforeEach(async () => {
      clock = createVirtualClock(T0);
      herald = await startHerald(factory, { clock });
    });
    afterEach(async () => {
      await herald.close();
    });

    const track = (userId: string, event: string, properties: object, atMs: number) =>
      ingestCall(herald, clock, 'track', { userId, event, properties, timestamp: iso(atMs) });
    const orders = async (userId: string) => {
      const profile = (
        await herald.app.inject({
          method: 'GET',
          url: `/v1/profiles/${userId}`,
          headers: { authorization: `Bearer ${adminToken}` },
        })
      ).json<{ computed: { frequency: number; monetary: number; recencyDays: number | null } }>();
      const { frequency, monetary, recencyDays } = profile.computed;
      return { count: frequency, monetary, recencyDays };
    };
    /** The milestone actions decided for the customer. */
    const milestones = async (userId: string) =>
      (
        await herald.app.inject({
          url: `/v1/decisions?customerId=${userId}&agent=milestone`,
          headers: { authorization: `Bearer ${adminToken}` },
        })
      )
        .json<{ decisions: { action: string }[] }>()
        .decisions.map((d) => d.action);
    const rebuilt = async (userId: string) => {
      await sweepProfiles(
        herald.services.store,
        herald.services.config.profilePolicy,
        clock.nowMs(),
        { mode: 'rebuild', churnModel: herald.services.churnModel },
      );
      return orders(userId);
    };

    it('thanks a first order once when it is cancelled and replaced', async () => {
      await ingestCall(herald, clock, 'identify', {
        userId: 'mo',
        traits: { email: 'mo@example.com' },
      });
      await track('mo', 'Order Completed', { order_id: 'o1', total: 40 }, T0);
      await herald.services.worker.runDue();
      clock.set(T0 + HOUR_MS);
      await track('mo', 'Order Cancelled', { order_id: 'o1', total: 40 }, T0 + HOUR_MS);
      await track('mo', 'Order Completed', { order_id: 'o2', total: 45 }, T0 + HOUR_MS);
      await herald.services.worker.runDue();
      expect(await milestones('mo')).toEqual(['first-order-thanks']);
      // Its first order still, by the count: the replacement is the one order it holds.
      expect((await orders('mo')).count).toBe(1);
    });

    it('thanks a first order once after a rebuild when a cancellation stamped before it came after it', async () => {
      await ingestCall(herald, clock, 'identify', {
        userId: 'jo',
        traits: { email: 'jo@example.com' },
      });
      await track('jo', 'Order Completed', { order_id: 'o1', total: 40 }, T0);
      await herald.services.worker.runDue();
      clock.set(T0 + HOUR_MS);
      // Sent after the order, stamped a minute before it (another system's clock).
      await track('jo', 'Order Cancelled', { order_id: 'o1' }, T0 - 60_000);
      // Replayed in time order, the cancellation came first and the order never counted: its
      // first order no longer reached, the next was thanked as a first order again.
      await rebuilt('jo');
      clock.set(T0 + 2 * HOUR_MS);
      await track('jo', 'Order Completed', { order_id: 'o2', total: 45 }, T0 + 2 * HOUR_MS);
      await herald.services.worker.runDue();
      expect(await milestones('jo')).toEqual(['first-order-thanks']);
    });

    it('thanks a first order after a rebuild when an order sent after its cancellation never counted', async () => {
      await ingestCall(herald, clock, 'identify', {
        userId: 'lu',
        traits: { email: 'lu@example.com' },
      });
      // The cancellation comes first (another system), stamped after the order it names.
      await track('lu', 'Order Cancelled', { order_id: 'o1', total: 40 }, T0 + HOUR_MS);
      await track('lu', 'Order Completed', { order_id: 'o1', total: 40 }, T0);
      await herald.services.worker.runDue();
      // Live, o1 never counted; replayed in time order it counted and was taken back, its first
      // order reached, and the customer's real first order went unthanked.
      await rebuilt('lu');
      clock.set(T0 + 2 * HOUR_MS);
      await track('lu', 'Order Completed', { order_id: 'o2', total: 45 }, T0 + 2 * HOUR_MS);
      await herald.services.worker.runDue();
      expect(await milestones('lu')).toEqual(['first-order-thanks']);
    });

    it('counts, after a rebuild, the record of an order that arrived first, as it was counted live', async () => {
      await track('c9', 'Order Completed', { order_id: 'o-1', total: 129.9 }, T0 - HOUR_MS);
      // A backfill sends the same order again, stamped earlier, with another total.
      await track('c9', 'Order Completed', { order_id: 'o-1', total: 109.16 }, T0 - 2 * HOUR_MS);
      expect(await orders('c9')).toMatchObject({ count: 1, monetary: 129.9 });
      expect(await rebuilt('c9')).toMatchObject({ count: 1, monetary: 129.9 });
    });

    it('takes back, after a rebuild, only the order cancelled, past a re-sent copy stamped before', async () => {
      const DAY = 24 * HOUR_MS;
      await track('cy', 'Order Completed', { order_id: 'o1', total: 50 }, T0 - 10 * DAY);
      // The same order again, stamped earlier (a backfill): it changes nothing.
      await track('cy', 'Order Completed', { order_id: 'o1', total: 50 }, T0 - 20 * DAY);
      await track('cy', 'Order Completed', { order_id: 'o2', total: 70 }, T0 - 18 * DAY);
      // Stamped between the copy and the record that counts.
      await track('cy', 'Order Cancelled', { order_id: 'o1', total: 50 }, T0 - 15 * DAY);
      const live = await orders('cy');
      expect(live).toEqual({ count: 1, monetary: 70, recencyDays: 18 });
      expect(await rebuilt('cy')).toEqual(live);
    });

    it('counts an order cancelled before it arrived as never placed, as a rebuild does', async () => {
      // The cancellation arrives first (two sources, a retry queue), stamped after the order.
      await track('ana', 'Order Cancelled', { order_id: 'o1', total: 40 }, T0 + HOUR_MS);
      await track('ana', 'Order Completed', { order_id: 'o1', total: 40 }, T0);
      const live = await orders('ana');
      expect(live).toEqual({ count: 0, monetary: 0, recencyDays: null });
      expect(await rebuilt('ana')).toEqual(live);
    });

    it('uncounts nothing for a cancellation of an order the customer never placed', async () => {
      await track('bo', 'Order Completed', { order_id: 'b1', total: 30 }, T0);
      await track('bo', 'Order Cancelled', { order_id: 'someone-else', total: 99 }, T0 + HOUR_MS);
      const live = await orders('bo');
      expect(live).toEqual({ count: 1, monetary: 30, recencyDays: 0 });
      expect(await rebuilt('bo')).toEqual(live);
    });

    it("uncounts nothing for a cancellation of another customer's order, live or rebuilt", async () => {
      await track('dee', 'Order Completed', { order_id: 'd1', total: 50 }, T0);
      await track('eli', 'Order Completed', { order_id: 'e1', total: 80 }, T0);
      // The same order id again under eli (a re-sent checkout), then eli cancels dee's order.
      await track('eli', 'Order Completed', { order_id: 'd1', total: 50 }, T0 + HOUR_MS);
      await track('eli', 'Order Cancelled', { order_id: 'd1', total: 50 }, T0 + 2 * HOUR_MS);
      expect(await orders('eli')).toEqual({ count: 1, monetary: 80, recencyDays: 0 });
      expect(await orders('dee')).toEqual({ count: 1, monetary: 50, recencyDays: 0 });
      expect(await rebuilt('eli')).toEqual({ count: 1, monetary: 80, recencyDays: 0 });
    });

    it('still uncounts an order cancelled after it, and one cancelled in the same batch', async () => {
      await track('cy', 'Order Completed', { order_id: 'c1', total: 20 }, T0);
      await track('cy', 'Order Cancelled', { order_id: 'c1', total: 20 }, T0 + HOUR_MS);
      expect(await orders('cy')).toEqual({ count: 0, monetary: 0, recencyDays: null });
      const batch = await herald.app.inject({
        method: 'POST',
        url: '/v1/batch',
        headers: {
          'content-type': 'application/json',
          authorization: `Basic ${Buffer.from('test-write-key-0001:').toString('base64')}`,
        },
        payload: JSON.stringify({
          batch: [
            {
              type: 'track',
              userId: 'di',
              event: 'Order Completed',
              messageId: 'd-1',
              properties: { order_id: 'd1', total: 15 },
              timestamp: iso(T0),
            },
            {
              type: 'track',
              userId: 'di',
              event: 'Order Cancelled',
              messageId: 'd-2',
              properties: { order_id: 'd1', total: 15 },
              timestamp: iso(T0 + HOUR_MS),
            },
          ],
        }),
      });
      expect(batch.statusCode).toBe(200);
      expect(await orders('di')).toEqual({ count: 0, monetary: 0, recencyDays: null });
      expect(await rebuilt('di')).toEqual(await orders('di'));
    });

    it('takes back the rest of an order refunded by its id alone, live and rebuilt', async () => {
      // Segment's full refund names the order and no amount.
      await track('vi', 'Order Completed', { order_id: 'v1', total: 1500 }, T0 - 2 * HOUR_MS);
      await track('vi', 'Order Refunded', { order_id: 'v1' }, T0 - HOUR_MS);
      expect(await orders('vi')).toEqual({ count: 1, monetary: 0, recencyDays: 0 });
      expect(await rebuilt('vi')).toEqual({ count: 1, monetary: 0, recencyDays: 0 });
    });

    it('keeps the cart filled after an order stamped ahead of its arrival, live and rebuilt', async () => {
      const cart = async () =>
        (
          await herald.app.inject({
            url: '/v1/profiles/fa',
            headers: { authorization: `Bearer ${adminToken}` },
          })
        ).json<{ computed: { cart: { value: number } | null } }>().computed.cart;
      // The shop's server runs 23 hours fast (no sentAt); a minute later the customer adds a
      // product from the website, stamped right.
      await track('fa', 'Order Completed', { order_id: 'f1', total: 10 }, T0 + 23 * HOUR_MS);
      clock.set(T0 + 60_000);
      await track('fa', 'Product Added', { product_id: 'p1', price: 80 }, T0 + 60_000);
      expect(await cart()).toMatchObject({ value: 80 });
      await rebuilt('fa');
      expect(await cart()).toMatchObject({ value: 80 });
    });
  });
}
