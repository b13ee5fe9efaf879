import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { adminToken, basicAuth, startHerald, type TestHerald } from '../support/start-herald.js';
import { storeFactories } from '../support/stores.js';
import { sweepProfiles } from '../../src/pipeline/profile/index.js';

const now = Date.UTC(2026, 5, 1, 12);
const clock = { nowMs: () => now };
const at = (hoursAgo: number) => new Date(now - hoursAgo * 3_600_000).toISOString();

// Orders in three currencies: the one Herald keeps (USD), one with a rate, one without.
for (const factory of storeFactories) {
  describe.skipIf(!factory.available)(`order currencies over ${factory.name}`, () => {
    let herald: TestHerald;
    beforeEach(async () => {
      herald = await startHerald(factory, {
        clock,
        configYaml: 'profile:\n  currency: USD\n  exchangeRates:\n    EUR: 1.1\n',
      });
    });
    afterEach(async () => {
      await herald.close();
    });
    const order = (
      userId: string,
      id: string,
      total: number,
      currency: string | null,
      h: number,
    ) => ({
      type: 'track',
      userId,
      event: 'Order Completed',
      timestamp: at(h),
      properties: { order_id: id, total, ...(currency === null ? {} : { currency }) },
    });
    const admin = async (url: string) =>
      (await herald.app.inject({ url, headers: { authorization: `Bearer ${adminToken}` } })).json<
        Record<string, unknown>
      >();

    it('keeps revenue in profile.currency, converts a currency with a rate, and counts none without', async () => {
      const answer = await herald.app.inject({
        method: 'POST',
        url: '/v1/batch',
        headers: { 'content-type': 'application/json', authorization: basicAuth() },
        payload: JSON.stringify({
          batch: [
            order('ada', 'o-usd', 100, null, 5),
            order('ada', 'o-eur', 200, 'eur', 4),
            // ¥50,000 is about $330: taken as dollars it would make Ada a VIP.
            order('ada', 'o-jpy', 50_000, 'JPY', 3),
            {
              type: 'track',
              userId: 'ada',
              event: 'Order Refunded',
              timestamp: at(2),
              properties: { order_id: 'o-eur', total: 50, currency: 'EUR' },
            },
          ],
        }),
      });
      expect(answer.statusCode).toBe(200);
      const profile = await admin('/v1/profiles/ada');
      // $100 + €200 × 1.1 − €50 × 1.1, and the yen order counted without its value.
      expect(profile['computed']).toMatchObject({ frequency: 3, ltv: 265, vip: false });
      const kpis = await admin(
        `/v1/kpis?from=${new Date(now - 86_400_000).toISOString()}&to=${new Date(now + 1).toISOString()}`,
      );
      // The KPIs' orders table keeps the converted values too (gross of refunds).
      expect(kpis).toMatchObject({ orders: 3, averageOrderValue: 320 / 3 });
      const metrics = await herald.app.inject({ url: '/metrics' });
      expect(metrics.body).toMatch(/herald_orders_unconverted_total\{currency="JPY"\} 1/);
      expect(metrics.body).not.toMatch(/herald_orders_unconverted_total\{currency="EUR"\}/);
    });

    it('counts an order in three letters no currency has under other: a sender writes them', async () => {
      const answer = await herald.app.inject({
        method: 'POST',
        url: '/v1/batch',
        headers: { 'content-type': 'application/json', authorization: basicAuth() },
        payload: JSON.stringify({
          batch: [order('bo', 'o-abc', 10, 'ABC', 3), order('bo', 'o-qqq', 10, 'QQQ', 2)],
        }),
      });
      expect(answer.statusCode).toBe(200);
      const metrics = (await herald.app.inject({ url: '/metrics' })).body;
      // Each series was its own before: every three letters, 17,576 of them, a scrape of 900 KB.
      expect(metrics).toMatch(/herald_orders_unconverted_total\{currency="other"\} 2/);
      expect(metrics).not.toMatch(/currency="ABC"|currency="QQQ"/);
    });
  });
}

// A refund counts against the order it names, and so against its customer's revenue only.
for (const factory of storeFactories) {
  describe.skipIf(!factory.available)(`refunds of orders over ${factory.name}`, () => {
    let herald: TestHerald;
    beforeEach(async () => {
      herald = await startHerald(factory, { clock });
    });
    afterEach(async () => {
      await herald.close();
    });
    let n = 0;
    const track = (userId: string, event: string, properties: object, h: number) => ({
      type: 'track',
      userId,
      event,
      timestamp: at(h),
      messageId: `r-${String((n += 1))}`,
      properties,
    });
    const post = (batch: object[]) =>
      herald.app.inject({
        method: 'POST',
        url: '/v1/batch',
        headers: { 'content-type': 'application/json', authorization: basicAuth() },
        payload: JSON.stringify({ batch }),
      });
    const ltvOf = async (userId: string) =>
      (
        await herald.app.inject({
          url: `/v1/profiles/${userId}`,
          headers: { authorization: `Bearer ${adminToken}` },
        })
      ).json<{ computed: { ltv: number } }>().computed.ltv;

    it("takes nothing from a customer for a refund of another customer's order, live and rebuilt", async () => {
      // In one batch and in the next: the refund comes under another customer's id.
      await post([
        track('ada', 'Order Completed', { order_id: 'o-1', total: 500 }, 10),
        track('bob', 'Order Completed', { order_id: 'o-2', total: 40 }, 9),
        track('bob', 'Order Refunded', { order_id: 'o-1', total: 500 }, 8),
      ]);
      await post([track('bob', 'Order Refunded', { order_id: 'o-1', total: 100 }, 7)]);
      expect([await ltvOf('ada'), await ltvOf('bob')]).toEqual([500, 40]);
      await sweepProfiles(herald.services.store, herald.services.config.profilePolicy, now, {
        mode: 'rebuild',
      });
      expect([await ltvOf('ada'), await ltvOf('bob')]).toEqual([500, 40]);
    });

    it('still holds a refund that comes before its own order, in the same batch or earlier', async () => {
      await post([
        track('cy', 'Order Refunded', { order_id: 'o-3', total: 30 }, 10),
        track('cy', 'Order Completed', { order_id: 'o-3', total: 100 }, 9),
      ]);
      expect(await ltvOf('cy')).toBe(70);
    });
  });
}
