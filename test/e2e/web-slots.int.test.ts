import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createVirtualClock, type VirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import { toCustomerId } from '../../src/core/ids.js';
import { DAY_MS, HOUR_MS } from '../../src/core/time.js';
import {
  adminCall,
  ingestCall,
  startHerald,
  writeKey,
  type TestHerald,
} from '../support/start-herald.js';
import { storeFactories } from '../support/stores.js';

// What a page slot shows: the newest content that may still be shown — for as long as it was
// published for, not past a journey run it belonged to, and a win-back wave on the visit it
// is for.

const T0 = Date.UTC(2026, 2, 1, 10);

// A journey whose one step puts up a banner, and which an order exits.
const PROMO_BANNER = `decide:
  journeys:
    - id: promo
      entry: { event: Promo Clicked }
      exitOn: [Order Completed]
      steps:
        - { id: banner, type: web, slot: promo-slot, content: welcome-banner, ttlHours: 72 }
`;

for (const factory of storeFactories)
  describe.skipIf(!factory.available)(`web slots (${factory.name})`, () => {
    let herald: TestHerald | undefined;
    let clock: VirtualClock;
    afterEach(async () => {
      await herald?.close();
      herald = undefined;
    });
    const start = async (configYaml?: string) => {
      clock = createVirtualClock(T0);
      herald = await startHerald(factory, {
        clock,
        ...(configYaml === undefined ? {} : { configYaml }),
      });
      return herald;
    };
    /** Herald with the test's write key for a source listed as verified, or not. */
    const startHeraldOf = async (verified: boolean) => {
      clock = createVirtualClock(T0);
      herald = await startHerald(factory, {
        clock,
        ...(verified
          ? {
              env: { HERALD_VERIFIED_SOURCES: 'web', HERALD_LINK_SECRET: 'link-secret-'.repeat(3) },
            }
          : {}),
      });
      return herald;
    };
    const signed = (h: TestHerald, userId: string) =>
      createHmac('sha256', h.services.linkSecret).update(`user:${userId}`).digest('hex');
    const shown = async (h: TestHerald, userId: string, slot: string) =>
      (
        await h.app.inject({
          url: `/v1/personalize?userId=${userId}&userSignature=${signed(h, userId)}&slot=${slot}&writeKey=${writeKey}`,
        })
      ).json<{ content: { messageId: string; template: string } | null }>().content;
    const runAt = async (h: TestHerald, atMs: number) => {
      clock.set(atMs);
      await h.services.worker.runDue();
      await h.services.dispatcher.runDue();
    };
    const publish = async (h: TestHerald, userId: string, slot: string, expiresAtMs: number) => {
      const sent = await adminCall(h, 'POST', '/v1/sends', {
        userId,
        channel: 'web',
        template: 'welcome-banner',
        data: { slot, expiresAt: new Date(expiresAtMs).toISOString() },
      });
      expect(sent.statusCode).toBe(201);
      await h.services.dispatcher.runDue();
      return sent.json<{ decisionId: string }>().decisionId;
    };

    it("answers an anonymous id alone as a user someone linked it to only for a verified source's key", async () => {
      for (const verified of [false, true]) {
        const h = await startHeraldOf(verified);
        await ingestCall(h, clock, 'identify', {
          userId: 'vera',
          traits: { email: 'vera@example.com', firstName: 'Vera' },
          ...(verified ? { context: { userSignature: signed(h, 'vera') } } : {}),
        });
        await publish(h, 'vera', 'hero', T0 + DAY_MS);
        // Anyone holding the public key links an id of their own to vera's user id.
        const link = await h.app.inject({
          method: 'POST',
          url: '/v1/identify',
          headers: { 'content-type': 'text/plain' },
          payload: JSON.stringify({ writeKey, userId: 'vera', anonymousId: 'not-vera' }),
        });
        expect(link.statusCode).toBe(verified ? 400 : 200);
        const asked = (anonymousId: string) =>
          h.app.inject({
            url: `/v1/personalize?anonymousId=${anonymousId}&slot=hero&writeKey=${writeKey}`,
          });
        expect((await asked('not-vera')).json<{ content: unknown }>().content).toBeNull();
        // With a verified key a link needs the server's signature, so the browser's own id,
        // linked so, is vera's.
        if (verified) {
          await ingestCall(h, clock, 'identify', {
            userId: 'vera',
            anonymousId: 'vera-browser',
            context: { userSignature: signed(h, 'vera') },
          });
          expect((await asked('vera-browser')).json<{ content: unknown }>().content).toMatchObject({
            template: 'welcome-banner',
          });
        }
        await h.close();
        herald = undefined;
      }
    });

    it('refuses a parameter given twice, naming it', async () => {
      const h = await start();
      const twice = await h.app.inject({
        url: `/v1/personalize?slot=a&userId=u&userId=v&userSignature=${signed(h, 'u,v')}&writeKey=${writeKey}`,
      });
      expect(twice.statusCode).toBe(400);
      expect(twice.json<{ error: { problems: { path: string }[] } }>().error.problems).toEqual([
        expect.objectContaining({ path: '/querystring/userId' }),
      ]);
      const slots = await h.app.inject({
        url: `/v1/personalize?slot=a&slot=b&anonymousId=x&writeKey=${writeKey}`,
      });
      expect(slots.statusCode).toBe(400);
      // Other parameters a page adds (a cache-buster) pass.
      const extra = await h.app.inject({
        url: `/v1/personalize?slot=a&anonymousId=x&writeKey=${writeKey}&_=1&_=2`,
      });
      expect(extra.statusCode).toBe(200);
    });

    it('shows a win-back wave on the visit it is for', async () => {
      const h = await start(
        'decide:\n  winBack:\n    webSlot: account-banner\n    webTtlHours: 48\n',
      );
      await ingestCall(h, clock, 'identify', {
        userId: 'w1',
        traits: { email: 'w1@example.com', consent: { email: { marketing: true } } },
      });
      await ingestCall(h, clock, 'track', {
        userId: 'w1',
        event: 'Order Completed',
        properties: { order_id: 'o1', total: 120 },
      });
      for (let day = 1; day <= 98; day += day < 89 ? 88 : 1)
        await runAt(h, Date.UTC(2026, 2, 1 + day, 7));
      const wave = await shown(h, 'w1', 'account-banner');
      expect(wave?.template).toMatch(/^win-back/);
      // The visit: a page view, and the banner's own impression, as personalize.js reports it.
      clock.advance(60_000);
      await ingestCall(h, clock, 'page', { userId: 'w1', name: 'Account' });
      await ingestCall(h, clock, 'track', {
        userId: 'w1',
        event: 'Web Content Viewed',
        properties: { slot: 'account-banner', messageId: wave?.messageId },
      });
      clock.advance(60_000);
      // Before, the visit counted as the return that made the wave moot, and took it down.
      expect((await shown(h, 'w1', 'account-banner'))?.messageId).toBe(wave?.messageId);
      // An order does: its offer is moot.
      await ingestCall(h, clock, 'track', {
        userId: 'w1',
        event: 'Order Completed',
        properties: { order_id: 'o2', total: 80 },
      });
      clock.advance(60_000);
      expect(await shown(h, 'w1', 'account-banner')).toBeNull();
    });

    it('falls back to older content that still stands when the newest is taken down', async () => {
      const h = await start();
      await ingestCall(h, clock, 'identify', {
        userId: 'd1',
        traits: { firstName: 'D', email: 'd1@example.com' },
      });
      const own = await publish(h, 'd1', 'homepage-hero', T0 + 5 * DAY_MS);
      clock.advance(1000);
      await ingestCall(h, clock, 'track', { userId: 'd1', event: 'Signed Up' });
      await runAt(h, T0 + 2000);
      // The welcome journey's banner, newer, fills the slot...
      expect((await shown(h, 'd1', 'homepage-hero'))?.messageId).not.toBe(own);
      clock.set(T0 + HOUR_MS);
      await ingestCall(h, clock, 'track', {
        userId: 'd1',
        event: 'Order Completed',
        properties: { order_id: 'o1', total: 50 },
      });
      await runAt(h, T0 + HOUR_MS + 1000);
      // ...until the order ends the journey: the content published for five days shows again.
      expect((await shown(h, 'd1', 'homepage-hero'))?.messageId).toBe(own);
    });

    it("takes down an earlier run's content once the journey is entered again", async () => {
      const h = await start(`decide:
  journeys:
    - id: promo
      entry: { event: Promo Clicked }
      exitOn: [Order Completed]
      reEntry: after-exit
      steps:
        - { id: w, type: wait, hours: 1 }
        - { id: banner, type: web, slot: promo-slot, content: welcome-banner, ttlHours: 72 }
        - { id: later, type: wait, hours: 48 }
        - { id: mail, type: send, channels: [email], template: welcome-1 }
`);
      await ingestCall(h, clock, 'identify', { userId: 'c1', traits: { firstName: 'C' } });
      await ingestCall(h, clock, 'track', { userId: 'c1', event: 'Promo Clicked' });
      await runAt(h, T0);
      await runAt(h, T0 + HOUR_MS + 1000);
      expect(await shown(h, 'c1', 'promo-slot')).not.toBeNull();
      clock.set(T0 + 2 * HOUR_MS);
      await ingestCall(h, clock, 'track', {
        userId: 'c1',
        event: 'Order Completed',
        properties: { order_id: 'o1', total: 10 },
      });
      await runAt(h, T0 + 2 * HOUR_MS + 1000);
      expect(await shown(h, 'c1', 'promo-slot')).toBeNull();
      clock.set(T0 + 3 * HOUR_MS);
      await ingestCall(h, clock, 'track', { userId: 'c1', event: 'Promo Clicked' });
      await runAt(h, T0 + 3 * HOUR_MS + 1000);
      // In the new run's wait: the ended run's banner does not come back.
      expect(await shown(h, 'c1', 'promo-slot')).toBeNull();
      await runAt(h, T0 + 4 * HOUR_MS + 2000);
      expect(await shown(h, 'c1', 'promo-slot')).not.toBeNull();
    });

    it('takes down a finished journey’s content when an exit event comes after', async () => {
      const h = await start(PROMO_BANNER);
      await ingestCall(h, clock, 'identify', { userId: 'f1', traits: { firstName: 'F' } });
      await ingestCall(h, clock, 'track', { userId: 'f1', event: 'Promo Clicked' });
      await runAt(h, T0 + 1000);
      // The banner was the journey's last step: it has run its course, the banner is up.
      expect(await shown(h, 'f1', 'promo-slot')).not.toBeNull();
      clock.set(T0 + HOUR_MS);
      await ingestCall(h, clock, 'track', {
        userId: 'f1',
        event: 'Order Completed',
        properties: { order_id: 'o1', total: 10 },
      });
      await runAt(h, T0 + HOUR_MS + 1000);
      // Before, it stayed up for its 72 hours after the order.
      expect(await shown(h, 'f1', 'promo-slot')).toBeNull();
    });

    it('keeps a finished journey’s content down through a merge', async () => {
      const h = await start(PROMO_BANNER);
      // The account enters first; the same person, not yet signed in, enters again as a
      // visitor an hour later, and orders as that visitor.
      await ingestCall(h, clock, 'identify', { userId: 'm1', traits: { firstName: 'M' } });
      await ingestCall(h, clock, 'track', { userId: 'm1', event: 'Promo Clicked' });
      await runAt(h, T0 + 1000);
      clock.set(T0 + HOUR_MS);
      await ingestCall(h, clock, 'track', { anonymousId: 'visit-1', event: 'Promo Clicked' });
      await runAt(h, T0 + HOUR_MS + 1000);
      clock.set(T0 + 2 * HOUR_MS);
      await ingestCall(h, clock, 'track', {
        anonymousId: 'visit-1',
        event: 'Order Completed',
        properties: { order_id: 'o1', total: 10 },
      });
      await runAt(h, T0 + 2 * HOUR_MS + 1000);
      // Signed in: the visitor is merged into the account, the visitor's banner with them.
      clock.set(T0 + 3 * HOUR_MS);
      await ingestCall(h, clock, 'identify', { userId: 'm1', anonymousId: 'visit-1' });
      await runAt(h, T0 + 3 * HOUR_MS + 1000);
      // The order ended the journey for this person: no promo banner of theirs shows.
      expect(await shown(h, 'm1', 'promo-slot')).toBeNull();
    });

    it('keeps content for at most 30 days, and says so in the message', async () => {
      const h = await start();
      await ingestCall(h, clock, 'identify', { userId: 'l1', traits: { firstName: 'L' } });
      const id = await publish(h, 'l1', 'home-hero', T0 + 90 * DAY_MS);
      const stored = await h.services.store.getMessage(id);
      expect(stored?.web?.expiresAtMs).toBe(T0 + 30 * DAY_MS);
      clock.set(T0 + 29 * DAY_MS);
      expect((await shown(h, 'l1', 'home-hero'))?.messageId).toBe(id);
      clock.set(T0 + 31 * DAY_MS);
      expect(await shown(h, 'l1', 'home-hero')).toBeNull();
      expect(
        (await h.services.store.listMessages({ customerId: toCustomerId('l1'), limit: 10 })).length,
      ).toBe(1);
    });
  });
