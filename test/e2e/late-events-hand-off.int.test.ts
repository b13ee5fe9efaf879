import { afterEach, describe, expect, it } from 'vitest';
import { createVirtualClock, type VirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import { toCustomerId } from '../../src/core/ids.js';
import type { MessageRecord } from '../../src/core/message.js';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../src/core/time.js';
import { ingestCall, startHerald, type TestHerald } from '../support/start-herald.js';
import { storeFactories } from '../support/stores.js';

// An event stamped a little before a message was made, recorded after it (a phone's batch sent
// late): the profile keeps it by its own time, which is earlier than the message's.
for (const factory of storeFactories) {
  describe.skipIf(!factory.available)(
    `events stamped before, recorded after (${factory.name})`,
    () => {
      let herald: TestHerald;
      let clock: VirtualClock;
      afterEach(async () => {
        await herald.close();
      });
      const post = (route: string, body: object) => ingestCall(herald, clock, route, body);
      const messagesOf = (userId: string): Promise<MessageRecord[]> =>
        herald.services.store.listMessages({ customerId: toCustomerId(userId), limit: 100 });
      /** Daily rounds at 07:00 UTC from `fromDay` until a message `wanted` picks is recorded. */
      const untilMade = async (
        userId: string,
        fromMs: number,
        days: number,
        wanted: (m: MessageRecord) => boolean,
      ): Promise<MessageRecord> => {
        for (let day = 0; day < days; day += 1) {
          clock.set(fromMs + day * DAY_MS);
          await herald.services.worker.runDue();
          const made = (await messagesOf(userId)).find(wanted);
          if (made !== undefined) return made;
          await herald.services.dispatcher.runDue();
        }
        throw new Error(`no such message for ${userId} in ${String(days)} days`);
      };
      /** The message once its send time has come and the worker and dispatcher have run. */
      const atItsTime = async (made: MessageRecord): Promise<MessageRecord | undefined> => {
        clock.set(Math.max(made.sendAtMs, clock.nowMs()) + MINUTE_MS);
        await herald.services.worker.runDue();
        await herald.services.dispatcher.runDue();
        return (await messagesOf(made.customerId)).find((m) => m.id === made.id);
      };
      const customer = async (userId: string) =>
        post('identify', {
          userId,
          traits: { email: `${userId}@example.com`, consent: { email: { marketing: true } } },
        });

      it('refuses a win-back email once a visit from before it was made is recorded', async () => {
        const T0 = Date.UTC(2026, 2, 1, 10);
        clock = createVirtualClock(T0);
        herald = await startHerald(factory, { clock });
        await customer('wyn');
        await post('track', {
          userId: 'wyn',
          event: 'Order Completed',
          properties: { order_id: 'o1', total: 120 },
        });
        // Day 90: the dormant path's first wave, an email at the customer's hour.
        const wave = await untilMade(
          'wyn',
          Date.UTC(2026, 4, 29, 7),
          4,
          (m) => m.agent === 'win-back' && m.channel === 'email',
        );
        expect(wave.status).toBe('queued');
        clock.set(wave.createdAtMs + 10 * MINUTE_MS);
        await post('page', {
          userId: 'wyn',
          name: 'Home',
          timestamp: new Date(wave.createdAtMs - 5 * MINUTE_MS).toISOString(),
        });
        expect(await atItsTime(wave)).toMatchObject({
          status: 'blocked',
          reasonCode: 'superseded',
        });
      });

      it('refuses the at-risk offer once an order from before it was made is recorded', async () => {
        const T0 = Date.UTC(2026, 2, 1, 10);
        clock = createVirtualClock(T0);
        herald = await startHerald(factory, { clock });
        await customer('lee');
        for (const [daysAgo, id] of [
          [40, 'o1'],
          [20, 'o2'],
          [0, 'o3'],
        ] as const)
          await post('track', {
            userId: 'lee',
            event: 'Order Completed',
            properties: { order_id: id, total: 60 },
            timestamp: new Date(T0 - daysAgo * DAY_MS).toISOString(),
          });
        const offer = await untilMade(
          'lee',
          Date.UTC(2026, 2, 2, 7),
          40,
          (m) => m.agent === 'lifecycle' && m.offerEndsMs !== undefined,
        );
        clock.set(offer.createdAtMs + 10 * MINUTE_MS);
        await post('track', {
          userId: 'lee',
          event: 'Order Completed',
          properties: { order_id: 'o4', total: 80 },
          timestamp: new Date(offer.createdAtMs - 5 * MINUTE_MS).toISOString(),
        });
        const after = await atItsTime(offer);
        expect(after).toMatchObject({ status: 'blocked', reasonCode: 'superseded' });
        expect(after?.verdicts.at(-1)?.reason ?? JSON.stringify(after)).toMatch(
          /recorded after the offer to win them back was made/,
        );
      });

      it('ends the welcome journey for an order placed after signing up, before the journey was entered', async () => {
        const T0 = Date.UTC(2026, 5, 3, 12);
        clock = createVirtualClock(T0);
        herald = await startHerald(factory, { clock });
        await customer('sam');
        await post('track', { userId: 'sam', event: 'Signed Up' });
        // The worker enters the journey two minutes after the signup.
        clock.set(T0 + 2 * MINUTE_MS);
        await herald.services.worker.runDue();
        await herald.services.dispatcher.runDue();
        // Ordered a minute after signing up; recorded three hours later, too late to act on.
        clock.set(T0 + 3 * HOUR_MS);
        await post('track', {
          userId: 'sam',
          event: 'Order Completed',
          properties: { order_id: 'o1', total: 50 },
          timestamp: new Date(T0 + MINUTE_MS).toISOString(),
        });
        for (let hours = 4; hours <= 8 * 24; hours += 4) {
          clock.set(T0 + hours * HOUR_MS);
          await herald.services.worker.runDue();
          await herald.services.dispatcher.runDue();
        }
        const templates = (await messagesOf('sam')).map((m) => m.template);
        expect(templates).toContain('welcome-1');
        expect(templates).not.toContain('welcome-2');
        expect(templates).not.toContain('welcome-3');
      });
    },
  );
}
