import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createVirtualClock, type VirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import type { CustomerId } from '../../src/core/ids.js';
import { DAY_MS, HOUR_MS } from '../../src/core/time.js';
import {
  adminCall,
  adminGet,
  batchCall,
  dispatchIoOf,
  ingestCall,
  startHerald,
  type TestHerald,
} from '../support/start-herald.js';
import { storeFactories } from '../support/stores.js';

const T0 = Date.UTC(2026, 5, 3, 12);

for (const factory of storeFactories) {
  describe.skipIf(!factory.available)(`merges within one batch (${factory.name})`, () => {
    let herald: TestHerald;
    let clock: VirtualClock;
    beforeEach(async () => {
      clock = createVirtualClock(T0);
      herald = await startHerald(factory, { clock });
    });
    afterEach(async () => {
      await herald.close();
    });

    it('files a device’s history under the survivor of a merge the same batch made', async () => {
      await ingestCall(herald, clock, 'alias', { userId: 'B', previousId: 'B-old' });
      await ingestCall(herald, clock, 'page', { anonymousId: 'Z', name: 'Home' });
      const at = new Date(clock.nowMs()).toISOString();
      await batchCall(herald, [
        { type: 'alias', userId: 'A', previousId: 'B', messageId: 'm-1', timestamp: at },
        {
          type: 'identify',
          userId: 'B-old',
          anonymousId: 'Z',
          messageId: 'm-2',
          traits: { plan: 'pro' },
          timestamp: at,
        },
      ]);
      const store = herald.services.store;
      // Nothing lives under B any more, and A holds Z's page view and the identify.
      expect(await store.getProfile('B' as CustomerId)).toBeUndefined();
      const events = await store.listEvents('A' as CustomerId, 10);
      expect(events.map((e) => e.type).sort()).toEqual(['alias', 'alias', 'identify', 'page']);
      expect((await store.getProfile('A' as CustomerId))?.state.traits).toMatchObject({
        plan: 'pro',
      });
    });

    it('answers 404 for a visitor’s anon: id once they identified, never another customer', async () => {
      // A family computer: Alice identified on it first, so its link leads to her; Bob's lookup
      // lists the id among his (his events carry it). Followed, `anon:fam` erased Alice.
      await ingestCall(herald, clock, 'identify', { userId: 'alice', anonymousId: 'fam' });
      await ingestCall(herald, clock, 'identify', { userId: 'bob', anonymousId: 'fam' });
      expect((await adminCall(herald, 'GET', '/v1/profiles/anon:fam')).statusCode).toBe(404);
      expect(
        (await adminCall(herald, 'POST', '/v1/customers/anon:fam/erase', { reason: 'dsar' }))
          .statusCode,
      ).toBe(404);
      expect((await adminCall(herald, 'GET', '/v1/profiles/alice')).statusCode).toBe(200);
    });

    it('files a delivery under the customer its message went to in a merge while it was sent', async () => {
      await ingestCall(herald, clock, 'identify', {
        userId: 'mo-new',
        traits: { email: 'mo@example.com' },
      });
      await ingestCall(herald, clock, 'identify', {
        userId: 'mo-old',
        traits: { email: 'mo.old@example.com' },
      });
      const sent = await adminCall(herald, 'POST', '/v1/sends', {
        userId: 'mo-old',
        channel: 'email',
        template: 'welcome-1',
      });
      expect(sent.statusCode, sent.body).toBe(201);
      const io = dispatchIoOf(herald);
      const now = clock.nowMs();
      const [claimed] = await io.claim('email', now, 10, now + 60_000);
      expect(claimed?.message.customerId).toBe('mo-old');
      if (claimed === undefined) return;
      // While the provider answers, the old id is merged into the new one.
      await ingestCall(herald, clock, 'alias', { userId: 'mo-new', previousId: 'mo-old' });
      await io.finish(
        [
          {
            message: claimed.message,
            kind: 'outcome',
            provider: 'capture',
            to: 'mo.old@example.com',
            outcome: { kind: 'sent', providerId: null },
          },
        ],
        now + 10,
        now + 60_000,
      );
      const trail = await adminCall(herald, 'GET', '/v1/customers/mo-new/audit');
      expect(trail.json<{ audit: { kind: string }[] }>().audit.map((e) => e.kind)).toEqual(
        expect.arrayContaining(['decision', 'delivery']),
      );
    });
  });

  describe.skipIf(!factory.available)(
    `merges and the journeys they bring (${factory.name})`,
    () => {
      let herald: TestHerald;
      let clock: VirtualClock;
      beforeEach(async () => {
        clock = createVirtualClock(T0);
        herald = await startHerald(factory, { clock });
      });
      afterEach(async () => {
        await herald.close();
      });
      const post = (route: string, body: object) => ingestCall(herald, clock, route, body);
      const runAt = async (atMs: number) => {
        clock.set(atMs);
        await herald.services.worker.runDue();
      };
      /** Runs the worker through the next eight days, then the welcome steps made after `sinceMs`. */
      const welcomeStepsAfter = async (sinceMs: number) => {
        for (let h = 4; h <= 8 * 24; h += 6) await runAt(T0 + h * HOUR_MS);
        await runAt(T0 + 8 * DAY_MS);
        const { decisions } = await adminGet<{
          decisions: { action: string; status: string; createdAt: string }[];
        }>(herald, '/v1/decisions?customerId=u');
        return decisions
          .filter(
            (d) =>
              d.action.startsWith('welcome/') &&
              d.status !== 'skipped' &&
              Date.parse(d.createdAt) > sinceMs,
          )
          .map((d) => d.action);
      };

      /** `u` identifies and signs up, entering the welcome series. */
      const signUp = async () => {
        await post('identify', { userId: 'u', traits: { email: 'u@example.com' } });
        await post('track', { userId: 'u', event: 'Signed Up' });
        await runAt(T0 + 1000);
      };
      const orderAt = async (who: object, atMs: number) => {
        clock.set(atMs);
        await post('track', {
          ...who,
          event: 'Order Completed',
          properties: { order_id: 'o1', total: 50 },
        });
        await runAt(atMs + 1000);
      };
      /** The visitor `anonymousId` logs in as `u`. */
      const logInAt = async (anonymousId: string, atMs: number) => {
        clock.set(atMs);
        await post('identify', { userId: 'u', anonymousId });
        await runAt(atMs + 1000);
      };

      it('ends the welcome series for an order the customer placed as a guest before logging in', async () => {
        await signUp();
        // On another device, not logged in, the customer buys; then logs in there.
        await orderAt({ anonymousId: 'guest-1' }, T0 + HOUR_MS);
        await logInAt('guest-1', T0 + 2 * HOUR_MS);
        expect(await welcomeStepsAfter(T0 + HOUR_MS)).toEqual([]);
      });

      it('does not run the welcome series again for a customer who ran it, with a visitor’s', async () => {
        await signUp();
        for (let h = 6; h <= 9 * 24; h += 6) await runAt(T0 + h * HOUR_MS);
        // On a new device ten days on, a visitor signs up (entering welcome), then logs in as u.
        const later = T0 + 10 * DAY_MS;
        clock.set(later);
        await post('track', { anonymousId: 'anon-2', event: 'Signed Up' });
        await runAt(later + 1000);
        await logInAt('anon-2', later + HOUR_MS);
        for (let h = 2; h <= 8 * 24; h += 6) await runAt(later + h * HOUR_MS);
        const { decisions } = await adminGet<{
          decisions: { action: string; status: string; createdAt: string }[];
        }>(herald, '/v1/decisions?customerId=u');
        const welcome = decisions.filter(
          (d) => d.action.startsWith('welcome/') && d.status !== 'skipped',
        );
        // The three emails of the first run, none of a second.
        expect(welcome.filter((d) => Date.parse(d.createdAt) < later).length).toBe(3);
        expect(
          welcome.filter((d) => Date.parse(d.createdAt) > later + HOUR_MS).map((d) => d.action),
        ).toEqual([]);
      });

      it('does not bring back a welcome series the customer’s order ended, with a visitor’s', async () => {
        await signUp();
        await orderAt({ userId: 'u' }, T0 + HOUR_MS);
        // A visitor on another device signs up (entering welcome), then logs in as u.
        clock.set(T0 + 2 * HOUR_MS);
        await post('track', { anonymousId: 'anon-1', event: 'Signed Up' });
        await runAt(T0 + 2 * HOUR_MS + 1000);
        await logInAt('anon-1', T0 + 3 * HOUR_MS);
        expect(await welcomeStepsAfter(T0 + HOUR_MS + 1000)).toEqual([]);
      });
    },
  );
}
