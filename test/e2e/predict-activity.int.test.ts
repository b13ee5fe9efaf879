import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DAY_MS } from '../../src/core/time.js';
import { activityHistoryOf } from '../../src/pipeline/stages.js';
import { startHerald, type TestHerald } from '../support/start-herald.js';
import { aTrack } from '../support/builders.js';
import { storeFactories } from '../support/stores.js';

const day0 = Date.UTC(2026, 0, 5);
const at = (day: number) => day0 + day * DAY_MS;

for (const factory of storeFactories)
  describe.skipIf(!factory.available)(
    `the churn classifier's activity history (${factory.name})`,
    () => {
      let herald: TestHerald;
      beforeEach(async () => {
        herald = await startHerald(factory, { clock: { nowMs: () => at(100) } });
        // An order on day 0, an email open on day 20, a cart on day 40.
        await herald.services.recorder.record(
          [
            aTrack({
              userId: 'u1',
              name: 'Order Completed',
              properties: { order_id: 'o1', total: 30 },
              timestampMs: at(0),
            }),
            aTrack({ userId: 'u1', name: 'Email Opened', timestampMs: at(20) }),
            aTrack({
              userId: 'u1',
              name: 'Product Added',
              properties: { product_id: 'p1', price: 25, quantity: 2 },
              timestampMs: at(40),
            }),
          ],
          at(100),
        );
      });
      afterEach(async () => {
        await herald.close();
      });

      it('replays each customer’s events up to each cutoff, so later events do not leak in', async () => {
        const history = await activityHistoryOf(
          herald.services.store,
          herald.services.config.profilePolicy,
        )([at(-1), at(10), at(30), at(50)]);
        const [before, afterOrder, afterOpen, afterCart] = history.get('u1') ?? [];
        expect(before).toBeNull();
        expect(afterOrder).toMatchObject({
          daysSinceActive: 10,
          cartValue: 0,
          responsesByChannel: {},
        });
        expect(afterOpen).toMatchObject({ daysSinceActive: 10, cartValue: 0 });
        expect(afterOpen?.responsesByChannel).toEqual({ email: 1 });
        expect(afterOpen?.engagementScore).toBeGreaterThan(0);
        expect(afterCart).toMatchObject({ daysSinceActive: 10, cartValue: 50 });
        // An open after the order adds engagement that a 30-day half-life then decays.
        const points = herald.services.config.profilePolicy.engagement;
        expect(afterOrder?.engagementScore).toBeCloseTo(
          Math.min(1, points.purchase * 0.5 ** (10 / 30)),
          3,
        );
      });
    },
  );
