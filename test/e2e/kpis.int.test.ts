import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createVirtualClock, type VirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import { createServices } from '../../src/app/create-services.js';
import { loadConfig } from '../../src/app/load-config.js';
import { importFile } from '../../src/cli/commands/import-file.js';
import type { CustomerId } from '../../src/core/ids.js';
import { DAY_MS, HOUR_MS } from '../../src/core/time.js';
import type { MessageRecord } from '../../src/core/message.js';
import { computeKpis } from '../../src/pipeline/kpis.js';
import { recordMessageResult } from '../../src/pipeline/track-messages.js';
import { sweepProfiles } from '../../src/pipeline/profile/sweep-profiles.js';
import { silentLogger } from '../../src/ports/logger.js';
import {
  adminCall,
  adminGet,
  batchCall,
  startHerald,
  type TestHerald,
} from '../support/start-herald.js';
import { storeFactories } from '../support/stores.js';

const T0 = Date.UTC(2026, 5, 3, 12);
const period = `from=${new Date(T0 - DAY_MS).toISOString()}&to=${new Date(T0 + DAY_MS).toISOString()}`;

interface KpiFigures {
  sent: { total: number };
  orders: number;
  averageOrderValue: number | null;
  cancelledOrders: number;
  attributedRevenue: number;
  conversion: { numerator: number };
  churn: { denominator: number };
  customerLifetimeValue: number | null;
}

for (const factory of storeFactories) {
  describe.skipIf(!factory.available)(`KPIs (${factory.name})`, () => {
    let herald: TestHerald;
    let clock: VirtualClock;
    let seq = 0;
    beforeEach(async () => {
      clock = createVirtualClock(T0);
      herald = await startHerald(factory, { clock });
    });
    afterEach(async () => {
      await herald.close();
    });

    /** Sends the calls as one batch, each with a messageId of its own unless it names one. */
    const batch = (calls: readonly object[]) =>
      batchCall(
        herald,
        calls.map((call) => {
          seq += 1;
          return {
            messageId: `k-${String(seq)}`,
            timestamp: new Date(clock.nowMs()).toISOString(),
            ...call,
          };
        }),
      );
    const identify = (ids: readonly string[]) =>
      batch(
        ids.map((id) => ({ type: 'identify', userId: id, traits: { email: `${id}@example.com` } })),
      );
    const kpis = () => adminGet<KpiFigures>(herald, `/v1/kpis?${period}`);
    /** Launches an upsell email campaign to everyone identified, and sends it. */
    const launch = async (id: string, holdoutPercent = 0) => {
      const launched = await adminCall(herald, 'POST', '/v1/campaigns', {
        id,
        template: 'upsell',
        channels: ['email'],
        holdoutPercent,
      });
      expect(launched.statusCode).toBeLessThan(300);
      await herald.services.worker.runDue();
      await herald.services.dispatcher.runDue();
    };

    it('counts an Order Completed without an order id in the orders, the attribution and the experiment', async () => {
      const ids = Array.from({ length: 10 }, (_, i) => `n${String(i)}`);
      await identify(ids);
      await launch('noid', 10);
      clock.set(T0 + 2 * HOUR_MS);
      // Segment's spec makes order_id optional: the profile counts these orders.
      await batch(
        ids.map((id) => ({
          type: 'track',
          userId: id,
          event: 'Order Completed',
          properties: { total: 80 },
        })),
      );
      const k = await kpis();
      expect(k.sent.total).toBeGreaterThan(0);
      expect(k).toMatchObject({
        orders: 10,
        averageOrderValue: 80,
        attributedRevenue: 80 * k.sent.total,
        conversion: { numerator: k.sent.total },
        customerLifetimeValue: 80,
      });
      const results = await adminGet<{ arms: { converted: number }[] }>(
        herald,
        '/v1/experiments/noid/results',
      );
      expect(results.arms.reduce((n, a) => n + a.converted, 0)).toBe(10);
    });

    it('counts a re-sent unnamed order once, two of them twice, and a rebuild gives the same', async () => {
      await identify(['u1']);
      await launch('resend');
      clock.set(T0 + HOUR_MS);
      const order = {
        type: 'track',
        userId: 'u1',
        event: 'Order Completed',
        properties: { total: 30 },
      };
      await batch([{ ...order, messageId: 'first' }]);
      // The same event again (a retry: same source and messageId), then another order.
      await batch([{ ...order, messageId: 'first' }]);
      await batch([{ ...order, messageId: 'second' }]);
      const live = await kpis();
      expect(live).toMatchObject({ orders: 2, attributedRevenue: 60, customerLifetimeValue: 60 });
      const profile = () =>
        adminGet<{ computed: { frequency: number; monetary: number } }>(herald, '/v1/profiles/u1');
      expect((await profile()).computed).toMatchObject({ frequency: 2, monetary: 60 });
      await sweepProfiles(
        herald.services.store,
        herald.services.config.profilePolicy,
        clock.nowMs(),
        { mode: 'rebuild', churnModel: herald.services.churnModel },
      );
      expect((await profile()).computed).toMatchObject({ frequency: 2, monetary: 60 });
      expect(await kpis()).toEqual(live);
    });

    it('withdraws the conversion of an order a merge makes cancelled', async () => {
      await identify(['k5']);
      await launch('merge');
      clock.set(T0 + HOUR_MS);
      await batch([
        {
          type: 'track',
          userId: 'k5',
          event: 'Order Completed',
          properties: { order_id: 'o9', total: 50 },
        },
      ]);
      expect(await kpis()).toMatchObject({
        orders: 1,
        attributedRevenue: 50,
        conversion: { numerator: 1 },
      });
      // The cancellation comes from the buyer's browser before it is identified...
      clock.set(T0 + 2 * HOUR_MS);
      await batch([
        {
          type: 'track',
          anonymousId: 'a9',
          event: 'Order Cancelled',
          properties: { order_id: 'o9' },
        },
      ]);
      // ...and the merge makes it the customer's own.
      clock.set(T0 + 3 * HOUR_MS);
      await batch([{ type: 'identify', userId: 'k5', anonymousId: 'a9' }]);
      expect(await kpis()).toMatchObject({
        orders: 0,
        cancelledOrders: 1,
        attributedRevenue: 0,
        conversion: { numerator: 0 },
      });
      const { conversions } = await adminGet<{ conversions: unknown[] }>(
        herald,
        '/v1/conversions?userId=k5',
      );
      expect(conversions).toEqual([]);
    });

    /** The message of a campaign sent to the customer, as the store has it. */
    const messageOf = async (campaign: string, userId: string) => {
      const { messages } = await adminGet<{ messages: { id: string }[] }>(
        herald,
        `/v1/messages?userId=${userId}`,
      );
      for (const { id } of messages) {
        const message = await herald.services.store.getMessage(id);
        if (message?.campaignId === campaign && message.status === 'sent') return message;
      }
      throw new Error(`no message of ${campaign} sent to ${userId}`);
    };
    const hardBounce = async (message: MessageRecord) =>
      recordMessageResult(
        herald.services.track,
        message,
        { kind: 'bounced', hard: true, reason: '550 no such user' },
        clock.nowMs(),
        clock.nowMs(),
      );
    const conversionsOf = async (userId: string) =>
      (
        await adminGet<{ conversions: { orderId: string; decisionId: string; revenue: number }[] }>(
          herald,
          `/v1/conversions?userId=${userId}`,
        )
      ).conversions;

    it('credits an order the same whether a message bounce is reported before it or after', async () => {
      await identify(['b1', 'b2']);
      await launch('bounce');
      const [early, late] = [await messageOf('bounce', 'b1'), await messageOf('bounce', 'b2')];
      // b1's bounce is reported before the order, b2's after it.
      clock.set(T0 + HOUR_MS);
      await hardBounce(early);
      clock.set(T0 + 2 * HOUR_MS);
      await batch(
        ['b1', 'b2'].map((id) => ({
          type: 'track',
          userId: id,
          event: 'Order Completed',
          properties: { order_id: `o-${id}`, total: 50 },
        })),
      );
      expect(await conversionsOf('b2')).toMatchObject([{ decisionId: late.id, revenue: 50 }]);
      clock.set(T0 + 3 * HOUR_MS);
      await hardBounce(late);
      expect(await conversionsOf('b1')).toEqual([]);
      expect(await conversionsOf('b2')).toEqual([]);
      expect(await kpis()).toMatchObject({ orders: 2, attributedRevenue: 0 });
      const { audit } = await adminGet<{
        audit: { kind: string; data: { decisionId?: string } }[];
      }>(herald, '/v1/customers/b2/audit');
      expect(
        audit
          .filter((e) => e.kind.startsWith('conversion'))
          .map((e) => [e.kind, e.data.decisionId]),
      ).toEqual([
        ['conversion', late.id],
        ['conversion-cancelled', late.id],
      ]);
    });

    it('gives the credit of a message that bounced after the order to the last one that reached the customer', async () => {
      await identify(['b3']);
      await launch('reached');
      clock.set(T0 + HOUR_MS);
      await launch('bounces');
      const [reached, bounced] = [
        await messageOf('reached', 'b3'),
        await messageOf('bounces', 'b3'),
      ];
      clock.set(T0 + 2 * HOUR_MS);
      await batch([
        {
          type: 'track',
          userId: 'b3',
          event: 'Order Completed',
          properties: { order_id: 'o-b3', total: 70 },
        },
      ]);
      expect(await conversionsOf('b3')).toMatchObject([{ decisionId: bounced.id, revenue: 70 }]);
      clock.set(T0 + 3 * HOUR_MS);
      await hardBounce(bounced);
      const conversions = await conversionsOf('b3');
      expect(conversions).toMatchObject([{ orderId: 'o-b3', decisionId: reached.id, revenue: 70 }]);
      expect(await kpis()).toMatchObject({ orders: 1, attributedRevenue: 70 });
    });

    it('takes the mean LTV over every customer who ordered, one refunded in full and one cancelled included', async () => {
      await identify(['a', 'b', 'c', 'd']);
      await batch(
        ['a', 'b', 'c'].map((id) => ({
          type: 'track',
          userId: id,
          event: 'Order Completed',
          properties: { order_id: `o-${id}`, total: 100 },
        })),
      );
      await batch([
        {
          type: 'track',
          userId: 'b',
          event: 'Order Refunded',
          properties: { order_id: 'o-b', total: 100 },
        },
        { type: 'track', userId: 'c', event: 'Order Cancelled', properties: { order_id: 'o-c' } },
      ]);
      const k = await kpis();
      // d never ordered: a customer (churn), not a buyer (CLV).
      expect(k.churn.denominator).toBe(4);
      expect(k.customerLifetimeValue).toBeCloseTo(100 / 3, 6);
    });
  });
}

describe('KPIs of an import (herald import events)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'herald-kpis-import-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('counts imported orders without an order id as the live path does, once however often imported', async () => {
    const services = await createServices(
      loadConfig({ HERALD_DATABASE_URL: `sqlite:${join(dir, 'h.db')}` }, null),
      { logger: silentLogger, bulk: true },
    );
    try {
      const lines = [
        { type: 'identify', userId: 'i1', traits: { email: 'i1@example.com' } },
        { type: 'track', userId: 'i1', event: 'Order Completed', properties: { total: 20 } },
        { type: 'track', userId: 'i1', event: 'Order Completed', properties: { total: 25 } },
      ].map((call, i) =>
        JSON.stringify({ ...call, timestamp: new Date(T0 + i * HOUR_MS).toISOString() }),
      );
      const path = join(dir, 'events.ndjson');
      writeFileSync(path, lines.join('\n'));
      const sink = { write: () => true } as unknown as NodeJS.WritableStream;
      const load = () => importFile(services, 'events', path, { batchSize: '1000' }, sink);
      expect(await load()).toMatchObject({ stored: 3 });
      // The same file again: its rows' messageIds are stored already.
      await load();
      const latency = { p95Ms: null, samples: 0 };
      const figures = () =>
        computeKpis(services.store, T0 - DAY_MS, T0 + DAY_MS, latency, 7 * DAY_MS);
      expect(await figures()).toMatchObject({ orders: 2, averageOrderValue: 22.5 });
      const profile = await services.store.getProfile('i1' as CustomerId);
      expect(profile?.state.orders).toMatchObject({ count: 2, revenueCents: 4500 });
      await sweepProfiles(services.store, services.config.profilePolicy, T0 + DAY_MS, {
        mode: 'rebuild',
      });
      expect((await services.store.getProfile('i1' as CustomerId))?.state.orders).toMatchObject({
        count: 2,
        revenueCents: 4500,
      });
      expect(await figures()).toMatchObject({ orders: 2, customerLifetimeValue: 45 });
    } finally {
      await services.close();
    }
  });
});
