import { afterEach, describe, expect, it } from 'vitest';
import { createVirtualClock, type VirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import { toCustomerId } from '../../src/core/ids.js';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../src/core/time.js';
import {
  adminGet,
  basicAuth,
  ingestCall,
  startHerald,
  type TestHerald,
} from '../support/start-herald.js';
import { storeFactories } from '../support/stores.js';

// Wednesday 2026-06-03 12:00 UTC.
const T0 = Date.UTC(2026, 5, 3, 12);
const iso = (ms: number) => new Date(ms).toISOString();

// History that arrives after the moment it describes — an import for customers already known,
// a phone's batch sent hours late — sends nothing its moment would not have.
for (const factory of storeFactories) {
  describe.skipIf(!factory.available)(`history that comes late (${factory.name})`, () => {
    let herald: TestHerald;
    let clock: VirtualClock;
    afterEach(async () => {
      await herald.close();
    });

    const start = async () => {
      clock = createVirtualClock(T0);
      herald = await startHerald(factory, { clock });
    };
    /** A call stamped `atMs` (its timestamp), sent now. */
    const post = (route: string, body: object, atMs = clock.nowMs()) =>
      ingestCall(herald, clock, route, { timestamp: iso(atMs), ...body });
    const runAt = async (atMs: number) => {
      clock.set(atMs);
      await herald.services.worker.runDue();
      await herald.services.dispatcher.runDue();
    };
    /**
     * A customer last active at `lastSeen`, signed up 100 days before it with an email opt-in
     * (and a text one with `phone`), with an order 10 days before it when asked.
     */
    const lastSeenAt = async (
      userId: string,
      lastSeen: number,
      options: { phone?: string; order?: boolean } = {},
    ) => {
      const texts = options.phone === undefined ? {} : { phone: options.phone };
      const signedUp = lastSeen - 100 * DAY_MS;
      await post(
        'identify',
        {
          userId,
          traits: {
            email: `${userId}@example.com`,
            ...texts,
            consent: {
              email: { marketing: true },
              ...('phone' in texts ? { sms: { marketing: true } } : {}),
            },
            createdAt: iso(signedUp),
          },
        },
        signedUp,
      );
      if (options.order === true)
        await post(
          'track',
          { userId, event: 'Order Completed', properties: { order_id: `o-${userId}`, total: 60 } },
          lastSeen - 10 * DAY_MS,
        );
      await post('page', { userId, name: 'Home' }, lastSeen);
    };
    const messagesOf = async (userId: string) =>
      herald.services.store.listMessages({ customerId: toCustomerId(userId), limit: 100 });

    it('sends no lifecycle message for a stage an import of history moved', async () => {
      await start();
      await post('identify', {
        userId: 'u4',
        traits: { email: 'u4@example.com', consent: { email: { marketing: true } } },
      });
      await runAt(T0 + MINUTE_MS);
      // An hour later the shop imports the customer's past: signed up 200 days ago, ordered 50
      // days ago, last seen 45 days ago. By that history they became at-risk 15 days ago.
      clock.set(T0 + HOUR_MS);
      await post(
        'identify',
        { userId: 'u4', traits: { createdAt: iso(T0 - 200 * DAY_MS) } },
        T0 - 200 * DAY_MS,
      );
      await post(
        'track',
        { userId: 'u4', event: 'Order Completed', properties: { order_id: 'o4', total: 60 } },
        T0 - 50 * DAY_MS,
      );
      await post('page', { userId: 'u4', name: 'Home' }, T0 - 45 * DAY_MS);
      const profile = await adminGet<{ computed: { lifecycleStage: string } }>(
        herald,
        '/v1/profiles/u4',
      );
      expect(profile.computed.lifecycleStage).toBe('at-risk');
      // The worker's next rounds and the next day's sweep raise no change from it.
      await runAt(T0 + 2 * HOUR_MS);
      await runAt(T0 + DAY_MS + 4 * HOUR_MS);
      const offers = (await messagesOf('u4')).filter((m) => m.template === 'win-back-offer');
      expect(offers).toEqual([]);
    });

    it('starts no second dormant path when history moves the last activity within the old past', async () => {
      await start();
      const lastSeen = T0 - 91 * DAY_MS;
      await lastSeenAt('u5', lastSeen, { order: true });
      // 91 days idle: the sweep starts the dormant path and its first email goes.
      await runAt(T0 + 7 * HOUR_MS);
      const first = (await messagesOf('u5')).filter((m) => m.template === 'win-back-generic');
      expect(first).toHaveLength(1);
      // The next day a second source's history adds a visit two days after the last one known:
      // 89 days ago, so 90 the day after. The customer has not come back since the path began.
      clock.set(T0 + DAY_MS);
      await post('page', { userId: 'u5', name: 'Shoes' }, lastSeen + 2 * DAY_MS);
      for (let day = 1; day <= 15; day += 1) await runAt(T0 + day * DAY_MS + 7 * HOUR_MS);
      const emails = (await messagesOf('u5')).filter((m) => m.template === 'win-back-generic');
      expect(emails.map((m) => m.id)).toEqual(first.map((m) => m.id));
      // By all history known they were not dormant when it began (89 days): its later waves end.
      const waves = async () =>
        (await herald.services.store.listDecisions({ customerId: toCustomerId('u5'), limit: 100 }))
          .filter((d) => d.agent === 'win-back')
          .map((d) => `${d.action} ${iso(d.createdAtMs)}`);
      expect(await waves()).toEqual([`win-back-email ${iso(T0 + 7 * HOUR_MS)}`]);
      // The next path counts 90 days from the first one's start.
      for (let day = 89; day <= 91; day += 1) await runAt(T0 + day * DAY_MS + 7 * HOUR_MS);
      expect(await waves()).toEqual([
        `win-back-email ${iso(T0 + 90 * DAY_MS + 7 * HOUR_MS)}`,
        `win-back-email ${iso(T0 + 7 * HOUR_MS)}`,
      ]);
    });

    it('ends the dormant path when activity from before it arrives late', async () => {
      await start();
      const lastSeen = T0 - 90 * DAY_MS - 2 * HOUR_MS;
      await lastSeenAt('u10', lastSeen, { phone: '+14155550100', order: true });
      await runAt(T0 + 7 * HOUR_MS);
      // The app was opened offline at T0 + 6 h, an hour before the path began; its batch
      // reaches Herald at T0 + 10 h (Segment's clock-skew fields).
      clock.set(T0 + 10 * HOUR_MS);
      await ingestCall(herald, clock, 'screen', {
        userId: 'u10',
        name: 'Home',
        timestamp: undefined,
        originalTimestamp: iso(T0 + 6 * HOUR_MS),
        sentAt: iso(T0 + 10 * HOUR_MS),
      });
      for (let day = 1; day <= 14; day += 1) await runAt(T0 + day * DAY_MS + 20 * HOUR_MS);
      const waves = (
        await herald.services.store.listDecisions({ customerId: toCustomerId('u10'), limit: 100 })
      )
        .filter((d) => d.agent === 'win-back')
        .map((d) => d.action);
      // The first email went before the visit was known; no SMS, retargeting or follow-up after.
      expect(waves).toEqual(['win-back-email']);
      // Silent since: the next path comes 90 days after the first began, not never.
      for (let day = 89; day <= 91; day += 1) await runAt(T0 + day * DAY_MS + 8 * HOUR_MS);
      const paths = (
        await herald.services.store.listDecisions({ customerId: toCustomerId('u10'), limit: 100 })
      ).filter((d) => d.action === 'win-back-email');
      expect(paths.map((d) => iso(d.createdAtMs))).toEqual([
        iso(T0 + 90 * DAY_MS + 8 * HOUR_MS),
        iso(T0 + 7 * HOUR_MS),
      ]);
    });

    it('starts one dormant path for a customer who stays silent, and no other', async () => {
      await start();
      await post('identify', {
        userId: 'u13',
        traits: { email: 'u13@example.com', consent: { email: { marketing: true } } },
      });
      await post('page', { userId: 'u13', name: 'Home' });
      // The path begins on day 90; were each path to restart the clock, another would begin
      // 90 and 180 days after it.
      for (const day of [1, 90, 91, 92, 96, 103, 180, 181, 182, 270, 271, 272])
        await runAt(T0 + day * DAY_MS + 7 * HOUR_MS);
      const started = (await herald.services.store.listWork(toCustomerId('u13'), 100)).filter(
        (w) => w.note === 'dormant path started: 4 waves',
      );
      expect(started).toHaveLength(1);
    });

    it('starts a second dormant path for a customer who came back and went quiet again', async () => {
      await start();
      const lastSeen = T0 - 91 * DAY_MS;
      await lastSeenAt('u12', lastSeen);
      for (let day = 0; day <= 15; day += 1) await runAt(T0 + day * DAY_MS + 7 * HOUR_MS);
      clock.set(T0 + 20 * DAY_MS);
      await post('page', { userId: 'u12', name: 'Back' });
      for (let day = 109; day <= 111; day += 1) await runAt(T0 + day * DAY_MS + 7 * HOUR_MS);
      const started = (await herald.services.store.listWork(toCustomerId('u12'), 100)).filter(
        (w) => w.note === 'dormant path started: 4 waves',
      );
      expect(started).toHaveLength(2);
    });

    it('keeps the times of a Segment archive replayed through /v1/import, and acts on none of it', async () => {
      await start();
      const at = T0 - 365 * DAY_MS;
      // As an export holds each call: its times, corrected by Segment when it came in.
      const archived = (call: object, ms: number) => ({
        ...call,
        timestamp: iso(ms),
        originalTimestamp: iso(ms),
        sentAt: iso(ms + 2000),
        receivedAt: iso(ms + 2500),
      });
      const batch = [
        archived(
          {
            type: 'identify',
            userId: 'u11',
            messageId: 'a1',
            traits: { email: 'u11@example.com' },
          },
          at,
        ),
        archived(
          {
            type: 'track',
            userId: 'u11',
            messageId: 'a2',
            event: 'Product Added',
            properties: { product_id: 'p1', price: 120, quantity: 1 },
          },
          at + MINUTE_MS,
        ),
      ];
      const answer = await herald.app.inject({
        method: 'POST',
        url: '/v1/import',
        headers: { 'content-type': 'application/json', authorization: basicAuth() },
        payload: JSON.stringify({ batch, sentAt: iso(T0) }),
      });
      expect(answer.statusCode).toBe(200);
      const { events } = await adminGet<{ events: { timestamp: string }[] }>(
        herald,
        '/v1/profiles/u11/events',
      );
      expect(events.map((e) => e.timestamp).sort()).toEqual([iso(at), iso(at + MINUTE_MS)]);
      await runAt(T0 + 3 * HOUR_MS);
      expect(await adminGet(herald, '/v1/customers/u11/journeys')).toEqual({ journeys: [] });
      expect(await messagesOf('u11')).toEqual([]);
    });
  });
}
