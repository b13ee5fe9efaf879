import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createVirtualClock, type VirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import { toCustomerId } from '../../src/core/ids.js';
import { DAY_MS, HOUR_MS } from '../../src/core/time.js';
import { ingestCall, startHerald, writeKey, type TestHerald } from '../support/start-herald.js';
import { storeFactories } from '../support/stores.js';

// Sunday 2026-03-01 10:00 UTC: the customer's last order; the dormant path starts 90 days on.
const T0 = Date.UTC(2026, 2, 1, 10);

for (const factory of storeFactories) {
  describe.skipIf(!factory.available)(`the win-back web wave (${factory.name})`, () => {
    let herald: TestHerald;
    let clock: VirtualClock;
    afterEach(async () => {
      await herald.close();
    });

    /** The content of `slot` a signed-in customer's page is given. */
    const contentOf = async (userId: string, slot: string) => {
      const signature = createHmac('sha256', herald.services.linkSecret)
        .update(`user:${userId}`)
        .digest('hex');
      const answer = await herald.app.inject({
        url: `/v1/personalize?userId=${userId}&userSignature=${signature}&slot=${slot}&writeKey=${writeKey}`,
      });
      return answer.json<{ content: { template: string } | null }>().content;
    };
    /** Each day's sweep (07:00 UTC) and dispatch from `fromDay` to `toDay` after T0's day. */
    const runDays = async (fromDay: number, toDay: number) => {
      for (let day = fromDay; day <= toDay; day += 1) {
        const at = Date.UTC(2026, 2, 1 + day, 7);
        clock.set(at);
        await herald.services.worker.runDue();
        await herald.services.dispatcher.runDue();
      }
    };

    it('shows the day-7 retargeting wave in its slot until its TTL ends', async () => {
      clock = createVirtualClock(T0);
      herald = await startHerald(factory, {
        clock,
        configYaml: 'decide:\n  winBack:\n    webSlot: account-banner\n    webTtlHours: 48\n',
      });
      const post = (route: string, body: object) => ingestCall(herald, clock, route, body);
      await post('identify', {
        userId: 'w1',
        traits: { email: 'w1@example.com', consent: { email: { marketing: true } } },
      });
      await post('track', {
        userId: 'w1',
        event: 'Order Completed',
        properties: { order_id: 'o1', total: 120 },
      });
      await runDays(1, 1);
      // 90 days idle on 30 May: the dormant path starts with the next sweep; wave 3 is day 7.
      await runDays(89, 98);
      const web = (
        await herald.services.store.listMessages({ customerId: toCustomerId('w1'), limit: 100 })
      ).filter((m) => m.channel === 'web');
      expect(web).toHaveLength(1);
      const shownAtMs = web[0]?.sendAtMs ?? 0;
      expect(web[0]?.web).toEqual({
        slot: 'account-banner',
        expiresAtMs: shownAtMs + 48 * HOUR_MS,
      });
      expect(await contentOf('w1', 'account-banner')).toMatchObject({
        template: 'win-back-generic',
      });
      expect(await contentOf('w1', 'homepage-hero')).toBeNull();
      clock.set(shownAtMs + 48 * HOUR_MS + 1);
      expect(await contentOf('w1', 'account-banner')).toBeNull();
      expect(shownAtMs).toBeGreaterThan(T0 + 90 * DAY_MS);
    });
  });
}
