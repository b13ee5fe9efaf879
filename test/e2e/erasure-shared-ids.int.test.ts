import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createVirtualClock, type VirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import { adminCall, ingestCall, startHerald, type TestHerald } from '../support/start-herald.js';
import { storeFactories } from '../support/stores.js';
import type { CustomerId } from '../../src/core/ids.js';
import { erasedSinceOf } from '../../src/pipeline/erased-identities.js';

const T0 = Date.UTC(2026, 5, 3, 12);

// An erasure keeps a keyed hash of the identities it removed, so the person named again gets no
// marketing until they opt in anew — but only the person's own: an id two people share (the
// family computer's anonymous id, an alias already merged into someone else) is not theirs alone.
for (const factory of storeFactories) {
  describe.skipIf(!factory.available)(
    `erasing one of two people who share an id (${factory.name})`,
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
      const identify = (userId: string, extra: object = {}) =>
        ingestCall(herald, clock, 'identify', {
          userId,
          traits: { email: `${userId.toLowerCase()}@example.com` },
          ...extra,
        });
      const erase = async (userId: string) => {
        const answer = await adminCall(herald, 'POST', `/v1/customers/${userId}/erase`, {
          reason: 'data-subject request',
        });
        expect(answer.statusCode).toBe(200);
        clock.set(clock.nowMs() + 60_000);
      };
      const sendTo = async (userId: string) => {
        const sent = (
          await adminCall(herald, 'POST', '/v1/sends', {
            userId,
            channel: 'email',
            template: 'welcome-1',
          })
        ).json<{ status: string; reasonCode: string | null }>();
        return { status: sent.status, reasonCode: sent.reasonCode };
      };
      const goes = { status: 'queued', reasonCode: null };

      it('leaves the other user of a shared computer their marketing, whichever is erased', async () => {
        await identify('ann', { anonymousId: 'family-pc' });
        await identify('ben', { anonymousId: 'family-pc' });
        await erase('ben');
        expect(await sendTo('ann')).toEqual(goes);
        await identify('cat', { anonymousId: 'office-pc' });
        await identify('dan', { anonymousId: 'office-pc' });
        await erase('cat');
        expect(await sendTo('dan')).toEqual(goes);
        // The erased person named again is known: no marketing until they opt in anew.
        await identify('ben');
        expect((await sendTo('ben')).reasonCode).toBe('erased');
      });

      it('knows an erased phone again in another spelling: no SMS marketing to it', async () => {
        const texting = { address: { country: 'US' }, consent: { sms: { marketing: true } } };
        await ingestCall(herald, clock, 'identify', {
          userId: 'zed',
          traits: { phone: '+1 415 555 0199', ...texting },
        });
        await erase('zed');
        // A guest checkout, or a CRM sync under another id, with the number as a form wrote it.
        await ingestCall(herald, clock, 'identify', {
          userId: 'zed-guest',
          traits: { phone: '(415) 555-0199', ...texting },
        });
        const sent = await adminCall(herald, 'POST', '/v1/sends', {
          userId: 'zed-guest',
          channel: 'sms',
          template: 'upsell',
        });
        expect(sent.json<{ reasonCode: string | null }>().reasonCode).toBe('erased');
      });

      it('knows an erased anonymous visitor again when their anonymous id comes back', async () => {
        await ingestCall(herald, clock, 'identify', {
          anonymousId: 'visitor-8',
          traits: { email: 'v8@example.com' },
        });
        await erase('anon:visitor-8');
        await ingestCall(herald, clock, 'track', {
          anonymousId: 'visitor-8',
          event: 'Page Viewed',
        });
        const again = await herald.services.store.getProfile('anon:visitor-8' as CustomerId);
        expect(again).toBeDefined();
        const erased = await herald.services.store.transaction((tx) =>
          erasedSinceOf(tx, again === undefined ? [] : [again.state]),
        );
        expect(erased.size).toBe(1);
      });

      it('leaves the customer an alias was merged into their marketing when another who named it is erased', async () => {
        await identify('amy');
        await ingestCall(herald, clock, 'alias', { userId: 'amy', previousId: 'guest-7' });
        await identify('cy');
        // The first link wins: guest-7 stays amy's.
        await ingestCall(herald, clock, 'alias', { userId: 'cy', previousId: 'guest-7' });
        await erase('cy');
        expect(await sendTo('amy')).toEqual(goes);
      });
    },
  );
}
