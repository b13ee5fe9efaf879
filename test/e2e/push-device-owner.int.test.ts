import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createVirtualClock, type VirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import type { CustomerId } from '../../src/core/ids.js';
import {
  adminCall,
  batchCall,
  ingestCall,
  startHerald,
  type TestHerald,
} from '../support/start-herald.js';
import { storeFactories } from '../support/stores.js';

const T0 = Date.UTC(2026, 5, 3, 15);
const HOUR_MS = 3_600_000;
const SHARED = 'fcm-token-shared';

for (const factory of storeFactories) {
  describe.skipIf(!factory.available)(
    `a push token one customer at a time (${factory.name})`,
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
      const signIn = (userId: string, token: string, atMs = clock.nowMs()) =>
        batchCall(herald, [
          {
            type: 'identify',
            userId,
            messageId: `in-${userId}-${token}-${String(atMs)}`,
            timestamp: new Date(atMs).toISOString(),
            traits: { firstName: userId, consent: { push: { marketing: true } } },
            context: { device: { token, type: 'android' } },
          },
        ]);
      /** Sends a push to the customer now, runs the dispatcher, and says where it went. */
      const push = async (userId: string) => {
        const { decisionId } = (
          await adminCall(herald, 'POST', '/v1/sends', {
            userId,
            channel: 'push',
            template: 'upsell',
            data: {},
          })
        ).json<{ decisionId: string }>();
        await herald.services.dispatcher.runDue();
        const message = await herald.services.store.getMessage(decisionId);
        const captured = await herald.services.store.capturedMessage(decisionId);
        return {
          status: message?.status,
          reasonCode: message?.reasonCode ?? null,
          lastError: message?.lastError ?? null,
          to: captured?.recipient ?? null,
        };
      };

      it('does not push to a token another customer signed in with since', async () => {
        await signIn('amy', SHARED);
        clock.set(clock.nowMs() + HOUR_MS);
        await signIn('bob', SHARED);
        clock.set(clock.nowMs() + 60_000);
        const amys = await push('amy');
        expect({ status: amys.status, reasonCode: amys.reasonCode, to: amys.to }).toEqual({
          status: 'blocked',
          reasonCode: 'no_recipient',
          to: null,
        });
        // The reason names no token: it is bob's device now.
        expect(amys.lastError).not.toContain(SHARED);
        expect((await push('bob')).to).toBe(SHARED);
      });

      it('pushes to the customer’s own device when their latest went to another customer', async () => {
        await signIn('amy', 'fcm-token-amys-tablet');
        clock.set(clock.nowMs() + 60_000);
        await signIn('amy', SHARED);
        clock.set(clock.nowMs() + HOUR_MS);
        await signIn('bob', SHARED);
        clock.set(clock.nowMs() + 60_000);
        expect((await push('amy')).to).toBe('fcm-token-amys-tablet');
      });

      it('gives the token to whoever used it last by the events’ times, whatever order they arrive in', async () => {
        // bob's sign-in arrives first; amy's, made an hour earlier, was queued offline.
        await signIn('bob', SHARED, clock.nowMs());
        await signIn('amy', SHARED, clock.nowMs() - HOUR_MS);
        clock.set(clock.nowMs() + 60_000);
        expect((await push('amy')).reasonCode).toBe('no_recipient');
        expect((await push('bob')).to).toBe(SHARED);
      });

      it('gives the token to the account signed in last when both carry the same second', async () => {
        // A sign-out and a sign-in within one second: clocks to the second, or one batch with
        // no timestamps at all.
        await signIn('amy', SHARED, clock.nowMs());
        await signIn('bob', SHARED, clock.nowMs());
        clock.set(clock.nowMs() + 60_000);
        expect((await push('amy')).reasonCode).toBe('no_recipient');
        expect((await push('bob')).to).toBe(SHARED);
      });

      it('keeps the token with the account signed in last when the other is rebuilt by a merge', async () => {
        // A visitor browsed earlier, with no device.
        await ingestCall(herald, clock, 'track', {
          anonymousId: 'visitor-9',
          event: 'Product Viewed',
          properties: {},
        });
        clock.set(clock.nowMs() + HOUR_MS);
        // amy signs out and bob signs in on the shared tablet within one second: bob's.
        const at = clock.nowMs();
        await signIn('amy', SHARED, at);
        await signIn('bob', SHARED, at);
        clock.set(clock.nowMs() + 60_000);
        // amy identifies on her laptop, the visitor's: her profile is rebuilt from its events,
        // and claimed the tablet back.
        await ingestCall(herald, clock, 'identify', {
          userId: 'amy',
          anonymousId: 'visitor-9',
          traits: {},
        });
        clock.set(clock.nowMs() + 60_000);
        const owners = await herald.services.store.transaction((tx) =>
          tx.deviceTokenOwners([SHARED]),
        );
        expect(owners.get(SHARED)).toBe('bob' as CustomerId);
        expect((await push('amy')).reasonCode).toBe('no_recipient');
      });

      it('gives the token to the account signed in last in one second when that sign-in merges a visitor', async () => {
        await ingestCall(herald, clock, 'track', {
          anonymousId: 'visitor-b',
          event: 'Product Viewed',
          properties: {},
        });
        clock.set(clock.nowMs() + HOUR_MS);
        const at = clock.nowMs();
        await signIn('amy', SHARED, at);
        // bob's identify names the visitor he was: his profile is rebuilt, his device still new.
        await batchCall(herald, [
          {
            type: 'identify',
            userId: 'bob',
            anonymousId: 'visitor-b',
            messageId: 'in-bob-merging',
            timestamp: new Date(at).toISOString(),
            traits: { firstName: 'bob', consent: { push: { marketing: true } } },
            context: { device: { token: SHARED, type: 'android' } },
          },
        ]);
        const owners = await herald.services.store.transaction((tx) =>
          tx.deviceTokenOwners([SHARED]),
        );
        expect(owners.get(SHARED)).toBe('bob' as CustomerId);
      });

      it('gives the token to the survivor of a merge', async () => {
        await ingestCall(herald, clock, 'identify', {
          anonymousId: 'visitor-1',
          traits: { consent: { push: { marketing: true } } },
          context: { device: { token: SHARED, type: 'android' } },
        });
        clock.set(clock.nowMs() + 60_000);
        await ingestCall(herald, clock, 'identify', {
          userId: 'amy',
          anonymousId: 'visitor-1',
          traits: { firstName: 'Amy', consent: { push: { marketing: true } } },
        });
        clock.set(clock.nowMs() + 60_000);
        expect((await push('amy')).to).toBe(SHARED);
        const owners = await herald.services.store.transaction((tx) =>
          tx.deviceTokenOwners([SHARED]),
        );
        expect(owners.get(SHARED)).toBe('amy' as CustomerId);
      });

      it('forgets whose the token was when that customer is erased', async () => {
        await signIn('bob', SHARED);
        const erased = await adminCall(herald, 'POST', '/v1/customers/bob/erase', {
          reason: 'data-subject request',
        });
        expect(erased.statusCode).toBe(200);
        const owners = await herald.services.store.transaction((tx) =>
          tx.deviceTokenOwners([SHARED]),
        );
        expect(owners.size).toBe(0);
      });

      it('knows the device of a customer erased after their list of devices had moved past it', async () => {
        await signIn('amy', SHARED);
        clock.set(clock.nowMs() + 60_000);
        await signIn('bob', SHARED);
        // bob goes on to five other devices (a profile lists the latest five).
        for (let i = 1; i <= 5; i += 1) {
          clock.set(clock.nowMs() + 60_000);
          await signIn('bob', `bob-device-${String(i)}`);
        }
        clock.set(clock.nowMs() + 60_000);
        // bob keeps the tablet and asks to be forgotten: amy's old sign-in on it is not hers now.
        await adminCall(herald, 'POST', '/v1/customers/bob/erase', { reason: 'request' });
        clock.set(clock.nowMs() + 60_000);
        expect(await push('amy')).toMatchObject({ reasonCode: 'no_recipient', to: null });
      });

      it('pushes no one else to the device of a customer erased, until it names them again', async () => {
        await signIn('amy', SHARED);
        clock.set(clock.nowMs() + HOUR_MS);
        await signIn('bob', SHARED);
        clock.set(clock.nowMs() + 60_000);
        // bob keeps his phone and asks to be forgotten: amy's old sign-in on it is not hers now.
        await adminCall(herald, 'POST', '/v1/customers/bob/erase', { reason: 'request' });
        clock.set(clock.nowMs() + 60_000);
        expect((await push('amy')).reasonCode).toBe('no_recipient');
        // amy signs in on it again: hers.
        await signIn('amy', SHARED);
        clock.set(clock.nowMs() + 60_000);
        expect((await push('amy')).to).toBe(SHARED);
      });
    },
  );
}
